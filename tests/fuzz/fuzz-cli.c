/* `linuxguard start` arguments: the input split at NUL bytes is argv after "start". */

#include "core/cli.h"
#include "fuzz.h"
#include "util/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char start[] = "start", *parts[64] = {}, *argv[66] = {start}, error[512];
        StartArgs a = {};
        size_t n;

        if (size > 16 * 1024)
                return 0;
        n = fuzz_split(data, size, parts, 64);
        if (n == 0)
                return 0;
        for (size_t i = 0; i < n; i++)
                argv[i + 1] = parts[i];
        if (start_args_parse((int)n + 1, argv, &a, error, sizeof(error)) >= 0)
                start_args_done(&a);
        free(parts[0]);
        return 0;
}
