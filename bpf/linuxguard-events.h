#pragma once
/* The records the kernel programs hand to user space: fixed-width fields, no kernel types.
 *
 * A record is a struct lg_event_header, the fixed payload of its type, then the payload's strings back to
 * back in declaration order. Each string length counts its terminating NUL; 0 means absent. header.size is
 * the whole record, so a reader can check that the pieces add up. Fields are in host byte order except
 * where noted. Bump LG_EVENT_ABI_VERSION whenever a layout changes. */

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define LG_EVENT_ABI_VERSION 1

#define LG_COMM_LEN          16
#define LG_PATH_MAX          256  /* bytes of a path kept, NUL included */
#define LG_ARGV_MAX          1024 /* bytes of the NUL-separated argv kept */
#define LG_NAME_MAX          64   /* module and BPF program names */
#define LG_RECORD_MAX        2048 /* no record is larger; the decoder rejects larger ones */
#define LG_FILE_PREFIX_MAX   8    /* watched path prefixes */
#define LG_FILE_PREFIX_LEN   64   /* bytes per prefix, NUL included */

enum lg_event_type {
        LG_EVENT_EXEC = 1,
        LG_EVENT_EXIT = 2,
        LG_EVENT_CRED = 3,
        LG_EVENT_FILE = 4,
        LG_EVENT_NET = 5,
        LG_EVENT_MODULE = 6,
        LG_EVENT_PTRACE = 7,
        LG_EVENT_BPF_PROG = 8,
        _LG_EVENT_TYPE_MAX,
};

/* Indexes of the per-CPU loss counters. */
enum lg_counter {
        LG_COUNTER_RING_FULL = 0, /* records lost because the ring buffer was full: each is a sequence gap */
        LG_COUNTER_PENDING_FULL = 1, /* syscalls not reported: no memory to track them until they return */
        _LG_COUNTER_MAX,
};

/* The value of agent_map: the thread group the programs never report (the agent reading the ring buffer);
 * 0 for none. */
struct lg_agent {
        __u32 tgid;
        __u32 reserved;
};

struct lg_event_header {
        __u16 type; /* enum lg_event_type */
        __u16 size; /* whole record in bytes, this header included */
        __u16 cpu;
        __u16 flags;     /* reserved, 0 */
        __u64 seq;       /* per load of the programs, from 1; a missing number is a lost record */
        __u64 ts_ns;     /* CLOCK_BOOTTIME */
        __u64 cgroup_id; /* cgroup v2 id of the task */
        __u32 pid;       /* thread group id, what user space calls the pid */
        __u32 tid;
        __u32 ppid; /* pid of the real parent */
        __u32 uid;
        __u32 gid;
        __u32 euid;
        __u32 egid;
        __u32 auid; /* audit login uid, 4294967295 when unset or unknown */
        char comm[LG_COMM_LEN];
};

#define LG_EXEC_FILENAME_TRUNCATED (1U << 0)
#define LG_EXEC_ARGV_TRUNCATED     (1U << 1)

struct lg_exec {
        __u32 flags;
        __u16 filename_len; /* string 1: path of the executed file as the kernel resolved it */
        __u16 argv_len;     /* string 2: arguments, each NUL-terminated */
};

struct lg_exit {
        __s32 exit_code; /* wait(2) status: (status << 8) | signal, 0x80 set for a core dump */
        __u32 reserved;
};

enum lg_cred_op {
        LG_CRED_SETUID = 1,
        LG_CRED_SETREUID = 2,
        LG_CRED_SETRESUID = 3,
        LG_CRED_SETFSUID = 4,
        LG_CRED_SETGID = 5,
        LG_CRED_SETREGID = 6,
        LG_CRED_SETRESGID = 7,
        LG_CRED_SETFSGID = 8,
        LG_CRED_CAPSET = 9,
        _LG_CRED_OP_MAX,
};

/* Reported when the syscall returns: the header carries the credentials after it. */
struct lg_cred {
        __u32 op; /* enum lg_cred_op */
        __s32 result;
        __u32 args[3]; /* the ids passed, 4294967295 for "unchanged"; unused ones 0 */
        __u32 old_uid;
        __u32 old_euid;
        __u32 old_gid;
        __u32 old_egid;
        __u32 reserved;
        __u64 old_cap_effective;
        __u64 cap_effective;
        __u64 cap_permitted;
};

enum lg_file_op {
        LG_FILE_OPEN = 1,
        LG_FILE_UNLINK = 2,
        LG_FILE_RENAME = 3,
        _LG_FILE_OP_MAX,
};

#define LG_FILE_PATH_TRUNCATED  (1U << 0)
#define LG_FILE_PATH2_TRUNCATED (1U << 1)
#define LG_FILE_PATH_RESOLVED   (1U << 2) /* string 1 was relative: joined to its directory in the kernel */
#define LG_FILE_PATH2_RESOLVED  (1U << 3)

struct lg_file {
        __u32 op; /* enum lg_file_op */
        __s32 result;
        __u32 flags;     /* open(2) flags, unlinkat(2) or renameat2(2) flags */
        __u32 mode;      /* open(2) mode */
        __u16 path_len;  /* string 1: the path as passed to the syscall, relative ones made absolute */
        __u16 path2_len; /* string 2: rename target */
        __u32 str_flags; /* LG_FILE_*_TRUNCATED, LG_FILE_*_RESOLVED */
};

enum lg_net_op {
        LG_NET_CONNECT = 1,
        LG_NET_ACCEPT = 2,
        _LG_NET_OP_MAX,
};

struct lg_net {
        __u16 op;       /* enum lg_net_op */
        __u16 family;   /* AF_INET or AF_INET6 */
        __u16 protocol; /* IPPROTO_TCP */
        __u16 reserved;
        __s32 result;   /* connect(2): 0 or -EINPROGRESS; accept(2): the new fd */
        __u16 lport;    /* host byte order */
        __u16 rport;    /* host byte order */
        __u8 laddr[16]; /* network byte order; IPv4 in the first 4 bytes */
        __u8 raddr[16];
};

struct lg_module {
        __u32 taints;
        __u16 name_len; /* string 1: module name */
        __u16 reserved;
};

struct lg_ptrace {
        __u32 request; /* PTRACE_ATTACH or PTRACE_SEIZE */
        __u32 target_pid;
};

struct lg_bpf_prog {
        __u32 prog_type; /* enum bpf_prog_type */
        __u32 insn_cnt;
        __u16 name_len; /* string 1: program name, may be empty */
        __u16 reserved;
        __u32 reserved2;
};
