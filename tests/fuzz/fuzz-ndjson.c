/* The reference backend's reading of POST /agent/events bodies (NDJSON after gunzip), the one request
 * parser of its own that the API tests depend on. */

#include "backend-api.h"
#include "fuzz.h"
#include "util/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *out = NULL;
        size_t out_size = 0, count = 0, bad_line = 0;

        if (size > 1024 * 1024)
                return 0;
        out = malloc(size + 1);
        if (out)
                (void)ndjson_filter((const char *)data, size, out, &out_size, &count, &bad_line);
        return 0;
}
