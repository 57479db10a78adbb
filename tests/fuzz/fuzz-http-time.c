/* Retry-After (delta-seconds or an HTTP date) and RFC 3339 timestamps, as the enrolment, renewal and
 * delivery clients read them from the backend. */

#include "core/http-time.h"
#include "fuzz.h"
#include "util/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *s = NULL;
        usec_t t;

        if (size > 4096)
                return 0;
        s = fuzz_strndup(data, size);
        if (!s)
                return 0;
        (void)retry_after_parse(s, 1700000000ULL * USEC_PER_SEC, &t);
        (void)http_date_parse(s, &t);
        (void)rfc3339_parse(s, &t);
        return 0;
}
