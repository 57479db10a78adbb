#pragma once
/* Capability preflight, pure: from the process's capability sets and the capabilities the enabled
 * features need, the message that names each missing one and how to grant it. */

#include <linux/capability.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CAP_MASK(c) (UINT64_C(1) << (c))

typedef struct CapsState {
        uint64_t effective, permitted, inheritable, bounding, ambient;
        bool no_new_privs;
        bool file_caps;          /* the binary carries security.capability */
        uint64_t file_permitted; /* the permitted set that attribute grants */
        int last_cap;            /* /proc/sys/kernel/cap_last_cap, -1 if unknown */
        uid_t euid;
} CapsState;

typedef struct CapNeed {
        int cap;
        int alternative; /* a capability that also satisfies the kernel's check, or -1 */
        const char *reason;
} CapNeed;

/* The kernel's bpf_capable() and perfmon_capable() also accept CAP_SYS_ADMIN. */
#define CAP_NEED_BPF                                         \
        {                                                    \
                CAP_BPF, CAP_SYS_ADMIN, "load eBPF programs" \
        }
#define CAP_NEED_PERFMON                                         \
        {                                                        \
                CAP_PERFMON, CAP_SYS_ADMIN, "attach tracepoints" \
        }
#define CAP_NEED_DAC_READ_SEARCH                                                        \
        {                                                                               \
                CAP_DAC_READ_SEARCH, CAP_DAC_OVERRIDE, "read tracepoint ids in tracefs" \
        }

/* "CAP_BPF"; "CAP_40" beyond the table. The buffer is used only for unknown numbers. */
const char *capability_to_name(int cap, char buf[static 16]);

/* 0 when every need is effective (*ret_message NULL). -EPERM with *ret_message (the caller frees it):
 * a line per missing capability with its reason and fix, and, when the binary's file capabilities were
 * ignored because of no_new_privs, a paragraph saying so and how to grant them instead. -ENOMEM. */
int caps_preflight(const CapsState *s, const CapNeed *needs, size_t n_needs, char **ret_message);
