/* Test driver for the capability preflight: prints this process's capability state on the first line,
 * then "ok" (exit 0) or the preflight's message (exit 6) for the eBPF sensors' needs. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "sensors/caps.h"
#include "util/macro.h"

int main(void)
{
        static const CapNeed needs[] = {CAP_NEED_BPF, CAP_NEED_PERFMON, CAP_NEED_DAC_READ_SEARCH};
        _cleanup_free_ char *msg = NULL;
        CapsState s;
        int r;

        r = caps_read_state(&s);
        if (r < 0)
                return fprintf(stderr, "caps_read_state: %s\n", strerror(-r)), 1;
        printf("eff=%" PRIx64 " prm=%" PRIx64 " inh=%" PRIx64 " bnd=%" PRIx64 " amb=%" PRIx64
               " nnp=%d file_caps=%d file_prm=%" PRIx64 " last_cap=%d euid=%u\n",
               s.effective, s.permitted, s.inheritable, s.bounding, s.ambient, s.no_new_privs, s.file_caps,
               s.file_permitted, s.last_cap, (unsigned)s.euid);
        r = caps_check(needs, ELEMENTSOF(needs), &msg);
        if (r == -EPERM)
                return fputs(msg, stdout), 6;
        if (r < 0)
                return fprintf(stderr, "caps_check: %s\n", strerror(-r)), 1;
        puts("ok");
        return 0;
}
