/* The config-file loader (libconfig syntax, then the settings table's validation), as `--config` and a
 * SIGHUP reload run it. Property: no crash, and every refusal names the file ("FILE:LINE: ..."). */

#include <stdio.h>

#include "core/config-file.h"
#include "fuzz.h"
#include "util/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_(settings_done) Settings s = {};
        _cleanup_free_ char *text = NULL;
        char error[512] = "";
        int r;

        if (size > 64 * 1024) /* the scanner's cost, not the loader, dominates past this */
                return 0;
        text = fuzz_strndup(data, size);
        if (!text)
                return 0;
        r = config_file_parse_string("fuzz.conf", text, &s, error, sizeof(error));
        if (r < 0 && strncmp(error, "fuzz.conf", 9) != 0) {
                fprintf(stderr, "refusal without the file name: \"%s\"\n", error);
                abort();
        }
        return 0;
}
