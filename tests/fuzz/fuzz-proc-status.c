/* /proc/PID/status as the degraded-mode process connector reads it (a process can name itself anything,
 * and its Name: line is in there). */

#include "fuzz.h"
#include "sensors/proc-connector.h"
#include "util/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *s = NULL;
        ProcStatus st;

        if (size > 64 * 1024)
                return 0;
        s = fuzz_strndup(data, size);
        if (s)
                (void)proc_status_parse(s, &st);
        return 0;
}
