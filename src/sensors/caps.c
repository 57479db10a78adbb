/* The capability state comes from the syscalls rather than /proc/self/status, so it also works before
 * /proc is mounted: capget() for the three per-thread sets, prctl() probes for bounding and ambient
 * (the first capability the bounding probe rejects marks the kernel's last one). */

#include "sensors/caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util/macro.h"

static int read_thread_sets(CapsState *s)
{
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
        struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};

        if (syscall(SYS_capget, &h, d) < 0)
                return negative_errno();
        s->effective = (uint64_t)d[1].effective << 32 | d[0].effective;
        s->permitted = (uint64_t)d[1].permitted << 32 | d[0].permitted;
        s->inheritable = (uint64_t)d[1].inheritable << 32 | d[0].inheritable;
        return 0;
}

static void read_bounding_and_ambient(CapsState *s)
{
        s->last_cap = -1;
        for (int c = 0; c < 64; c++) {
                int r = prctl(PR_CAPBSET_READ, (unsigned long)c, 0UL, 0UL, 0UL);
                if (r < 0)
                        break;
                s->last_cap = c;
                if (r > 0)
                        s->bounding |= CAP_MASK(c);
                if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, (unsigned long)c, 0UL, 0UL) > 0)
                        s->ambient |= CAP_MASK(c);
        }
}

/* security.capability is a struct vfs_cap_data (revision 1, 2) or vfs_ns_cap_data (3). */
static void read_file_caps(CapsState *s)
{
        struct vfs_ns_cap_data d = {};
        ssize_t n;
        uint32_t rev;

        n = getxattr("/proc/self/exe", "security.capability", &d, sizeof(d));
        if (n < (ssize_t)(sizeof(uint32_t) * 3))
                return;
        s->file_caps = true;
        rev = d.magic_etc & VFS_CAP_REVISION_MASK;
        s->file_permitted = d.data[0].permitted;
        if (rev != VFS_CAP_REVISION_1 && n >= (ssize_t)XATTR_CAPS_SZ_2)
                s->file_permitted |= (uint64_t)d.data[1].permitted << 32;
}

int caps_read_state(CapsState *ret)
{
        CapsState s = {.euid = geteuid()};
        int r;

        r = read_thread_sets(&s);
        if (r < 0)
                return r;
        read_bounding_and_ambient(&s);
        r = prctl(PR_GET_NO_NEW_PRIVS, 0UL, 0UL, 0UL, 0UL);
        if (r < 0)
                return negative_errno();
        s.no_new_privs = r > 0;
        read_file_caps(&s);
        *ret = s;
        return 0;
}

int caps_check(const CapNeed *needs, size_t n_needs, char **ret_message)
{
        CapsState s;
        int r;

        *ret_message = NULL;
        r = caps_read_state(&s);
        if (r < 0)
                return r;
        return caps_preflight(&s, needs, n_needs, ret_message);
}
