// SPDX-License-Identifier: GPL-2.0-or-later
/* linuxguard's sensors: filter, copy, submit.
 *
 * Only tracepoints are used: this project's kernels lack kprobes and refuse fentry and BPF LSM. Every record
 * is built in a per-CPU scratch buffer and copied into the ring buffer with bpf_ringbuf_output(), because a
 * reservation must have a constant size and records are variable-length to stay compact. Syscalls whose
 * result matters (file operations, credential changes) are recorded at entry into a table keyed by thread id
 * (task local storage) and reported at exit.
 *
 * Every record gets the next sequence number just before it is offered to the ring buffer, and every refusal
 * is counted, so the counter of lost records equals the number of gaps a consumer sees. Consumers are woken
 * only once enough data is pending (wakeup_bytes); user space also drains on a short timer.
 *
 * Sensors are switched by not loading their programs (names start lg_proc_, lg_file_, lg_net_, lg_kern_). */

#include "linuxguard.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Tunables, set by user space before load. The agent's own pid is not one: a pinned set outlives the agent
 * that reads it, so the agent writes its pid into agent_map when it attaches (both loaders do). All are
 * here, the file sensor's prefixes too, so that the rodata user space fills has one layout, this one. */
const volatile __u64 wakeup_bytes = 0; /* 0: wake the consumer for every record */
const volatile bool pid_allow_active = false;
const volatile bool pid_deny_active = false;
const volatile bool cgroup_allow_active = false;
const volatile bool cgroup_deny_active = false;
const volatile __u32 file_prefix_count = 0;
const volatile char file_prefixes[LG_FILE_PREFIX_MAX][LG_FILE_PREFIX_LEN] = {};

__u64 lg_seq = 0;

lg_events_map_t events SEC(".maps");
lg_counters_map_t counters SEC(".maps");
lg_scratch_map_t scratch_map SEC(".maps");
lg_agent_map_t agent_map SEC(".maps");
lg_pending_map_t pending_map SEC(".maps");
lg_pid_filter_map_t pid_allow SEC(".maps");
lg_pid_filter_map_t pid_deny SEC(".maps");
lg_cgroup_filter_map_t cgroup_allow SEC(".maps");
lg_cgroup_filter_map_t cgroup_deny SEC(".maps");

/* ---- process -------------------------------------------------------------------------------------------- */

_Static_assert(sizeof(struct lg_event_header) + sizeof(struct lg_exec) + LG_PATH_MAX + LG_ARGV_MAX <=
                       LG_RECORD_MAX,
               "exec record too large");

SEC("tp/sched/sched_process_exec")
int lg_proc_exec(struct trace_event_raw_sched_process_exec *ctx)
{
        struct task_struct *task = (void *)bpf_get_current_task();
        char *buf;
        struct lg_exec *e;
        unsigned long arg_start, arg_end;
        __u64 off, len;
        long n;

        if (filtered())
                return 0;
        buf = scratch_get();
        if (!buf)
                return 0;
        fill_header((void *)buf, LG_EVENT_EXEC);
        e = (void *)(buf + sizeof(struct lg_event_header));
        e->flags = 0;
        off = sizeof(struct lg_event_header) + sizeof(*e);

        n = bpf_probe_read_kernel_str(buf + off, LG_PATH_MAX,
                                      (void *)ctx + (ctx->__data_loc_filename & 0xFFFF));
        if (n <= 0) {
                buf[off] = 0;
                n = 1;
        }
        if (n == LG_PATH_MAX)
                e->flags |= LG_EXEC_FILENAME_TRUNCATED;
        e->filename_len = n;
        off += n & (LG_PATH_MAX * 2 - 1);

        arg_start = BPF_CORE_READ(task, mm, arg_start);
        arg_end = BPF_CORE_READ(task, mm, arg_end);
        len = arg_end > arg_start ? arg_end - arg_start : 0;
        if (len > LG_ARGV_MAX) {
                len = LG_ARGV_MAX;
                e->flags |= LG_EXEC_ARGV_TRUNCATED;
        }
        barrier_var(len);
        if (len > LG_ARGV_MAX || off > LG_RECORD_MAX - LG_ARGV_MAX)
                return 0;
        if (len > 0 && bpf_probe_read_user(buf + off, len, (void *)arg_start) < 0)
                len = 0;
        if (len > 0)
                buf[(off + len - 1) & (SCRATCH_SIZE - 1)] = 0; /* a truncated argv still ends in NUL */
        e->argv_len = len;
        submit(buf, off + len);
        return 0;
}

SEC("tp/sched/sched_process_exit")
int lg_proc_exit(struct trace_event_raw_sched_process_exit *ctx)
{
        struct task_struct *task = (void *)bpf_get_current_task();
        char *buf;
        struct lg_exit *e;

        /* One record per process: when the last thread leaves. */
        if (BPF_CORE_READ(task, signal, live.counter) != 0)
                return 0;
        if (filtered())
                return 0;
        buf = scratch_get();
        if (!buf)
                return 0;
        fill_header((void *)buf, LG_EVENT_EXIT);
        e = (void *)(buf + sizeof(struct lg_event_header));
        e->exit_code = BPF_CORE_READ(task, exit_code);
        e->reserved = 0;
        submit(buf, sizeof(struct lg_event_header) + sizeof(*e));
        return 0;
}

static __always_inline __u64 read_cap(const kernel_cap_t *cap)
{
        __u64 v = 0;

        bpf_probe_read_kernel(&v, sizeof(v), cap);
        return v;
}

static __always_inline int cred_enter(struct trace_event_raw_sys_enter *ctx, __u32 op, int nargs)
{
        struct task_struct *task = (void *)bpf_get_current_task();
        const struct cred *cred = BPF_CORE_READ(task, cred);
        struct lg_event_header *h;
        struct lg_cred *c;
        char *buf;

        if (filtered())
                return 0;
        buf = scratch_get();
        if (!buf)
                return 0;
        h = (void *)buf;
        fill_header(h, LG_EVENT_CRED);
        c = (void *)(buf + sizeof(*h));
        c->op = op;
        c->result = 0;
        c->args[0] = nargs > 0 ? ctx->args[0] : 0;
        c->args[1] = nargs > 1 ? ctx->args[1] : 0;
        c->args[2] = nargs > 2 ? ctx->args[2] : 0;
        c->old_uid = h->uid;
        c->old_euid = h->euid;
        c->old_gid = h->gid;
        c->old_egid = h->egid;
        c->reserved = 0;
        c->old_cap_effective = read_cap(&cred->cap_effective);
        c->cap_effective = 0;
        c->cap_permitted = 0;
        h->size = sizeof(*h) + sizeof(*c);
        pending_put(buf);
        return 0;
}

static __always_inline int cred_exit(struct trace_event_raw_sys_exit *ctx)
{
        struct task_struct *task = (void *)bpf_get_current_task();
        const struct cred *cred = BPF_CORE_READ(task, cred);
        struct lg_event_header *h;
        struct lg_cred *c;
        struct pending *p;

        p = pending_take();
        if (!p)
                return 0;
        h = (void *)p->buf;
        c = (void *)(p->buf + sizeof(*h));
        if (h->type == LG_EVENT_CRED) {
                c->result = ctx->ret;
                fill_creds(h);
                c->cap_effective = read_cap(&cred->cap_effective);
                c->cap_permitted = read_cap(&cred->cap_permitted);
                submit(p->buf, sizeof(*h) + sizeof(*c));
        }
        return 0;
}

#define CRED_SYSCALL(name, op, nargs)                                   \
        SEC("tp/syscalls/sys_enter_" #name)                             \
        int lg_proc_enter_##name(struct trace_event_raw_sys_enter *ctx) \
        {                                                               \
                return cred_enter(ctx, op, nargs);                      \
        }                                                               \
        SEC("tp/syscalls/sys_exit_" #name)                              \
        int lg_proc_exit_##name(struct trace_event_raw_sys_exit *ctx)   \
        {                                                               \
                return cred_exit(ctx);                                  \
        }

CRED_SYSCALL(setuid, LG_CRED_SETUID, 1)
CRED_SYSCALL(setreuid, LG_CRED_SETREUID, 2)
CRED_SYSCALL(setresuid, LG_CRED_SETRESUID, 3)
CRED_SYSCALL(setfsuid, LG_CRED_SETFSUID, 1)
CRED_SYSCALL(setgid, LG_CRED_SETGID, 1)
CRED_SYSCALL(setregid, LG_CRED_SETREGID, 2)
CRED_SYSCALL(setresgid, LG_CRED_SETRESGID, 3)
CRED_SYSCALL(setfsgid, LG_CRED_SETFSGID, 1)
CRED_SYSCALL(capset, LG_CRED_CAPSET, 0)

/* ---- file ----------------------------------------------------------------------------------------------- */

#define AT_FDCWD -100
#define S_IFMT   00170000
#define S_IFDIR  0040000

/* path points into a map value with at least LG_FILE_PREFIX_LEN readable bytes. */
static __always_inline bool path_watched(const char *path)
{
        for (int i = 0; i < LG_FILE_PREFIX_MAX; i++) {
                bool match = true;

                if (i >= file_prefix_count)
                        break;
                for (int j = 0; j < LG_FILE_PREFIX_LEN; j++) {
                        char c = file_prefixes[i][j];

                        if (!c)
                                break;
                        if (path[j] != c) {
                                match = false;
                                break;
                        }
                }
                if (match)
                        return true;
        }
        return false;
}

/* Relative paths are joined to their directory here, so that "cd /etc; cat shadow" and openat(dirfd,
 * "shadow") match the /etc/ prefix like "/etc/shadow" does. The directory (the working directory, or
 * the file behind dirfd) is named by walking its dentries up to the task's root, crossing mounts, built
 * backwards in the scratch's second half: DIR_REGION + [start, DIR_MAX), then '/' and the relative path
 * follow it. ".." and symbolic links in the relative part are not resolved. Opens are reported at exit,
 * so the working directory and dirfd are read then: a thread that changes them during the call (chdir,
 * dup2 over dirfd) can make the report name another directory, as rewriting the path string itself can. */
#define DIR_REGION (SCRATCH_SIZE / 2)
#define DIR_MAX    512 /* bytes of a directory's path; a longer one leaves the path as passed */
#define DIR_DEPTH  32  /* components of a directory's path; a deeper one leaves the path as passed */
#define NAME_MASK  255 /* NAME_MAX: a component's length */

_Static_assert(DIR_REGION + 2 * DIR_MAX + LG_PATH_MAX * 2 <= SCRATCH_SIZE, "scratch too small for paths");

/* Builds the path of dirfd's directory (or the working directory) in the scratch; returns where it
 * starts (DIR_MAX: the root, an empty string) or -1 if it cannot be named: too deep or too long, not a
 * directory, or not reachable from a mount namespace's root (a pipe or socket, a detached mount). The
 * walk is the kernel's prepend_path(). */
static __always_inline long dir_path(char *buf, int dirfd)
{
        struct task_struct *task = (void *)bpf_get_current_task();
        struct dentry *d, *parent, *mnt_root, *root_d = BPF_CORE_READ(task, fs, root.dentry);
        struct vfsmount *vfs, *root_vfs = BPF_CORE_READ(task, fs, root.mnt);
        struct mount *mnt, *up;
        struct qstr name;
        long pos = DIR_MAX;
        __u32 len;

        if (dirfd == AT_FDCWD) {
                d = BPF_CORE_READ(task, fs, pwd.dentry);
                vfs = BPF_CORE_READ(task, fs, pwd.mnt);
        } else {
                struct file *f = file_from_fd(dirfd);

                if (!f || (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFDIR)
                        return -1;
                d = BPF_CORE_READ(f, f_path.dentry);
                vfs = BPF_CORE_READ(f, f_path.mnt);
        }
        mnt = container_of(vfs, struct mount, mnt);
        for (int i = 0; i < DIR_DEPTH; i++) {
                if (d == root_d && vfs == root_vfs)
                        return pos;
                mnt_root = BPF_CORE_READ(vfs, mnt_root);
                if (d == mnt_root) {
                        up = BPF_CORE_READ(mnt, mnt_parent);
                        if (up == mnt) /* the root of a mount namespace, or a detached mount */
                                return BPF_CORE_READ(mnt, mnt_ns) ? pos : -1;
                        d = BPF_CORE_READ(mnt, mnt_mountpoint);
                        mnt = up;
                        vfs = &up->mnt;
                        continue;
                }
                parent = BPF_CORE_READ(d, d_parent);
                if (d == parent) /* a root that is no mount's: pipes, sockets, anonymous inodes */
                        return -1;
                name = BPF_CORE_READ(d, d_name);
                len = name.len;
                if (len == 0 || len > NAME_MASK || len + 1 > pos)
                        return -1;
                pos -= len;
                bpf_probe_read_kernel(buf + DIR_REGION + (pos & (DIR_MAX - 1)), len & NAME_MASK, name.name);
                pos--;
                buf[DIR_REGION + (pos & (DIR_MAX - 1))] = '/';
                d = parent;
        }
        return -1;
}

/* The path at buf + off (n bytes with its NUL), if relative, replaced by itself joined to its directory,
 * cut at LG_PATH_MAX. Returns the new length with the NUL. */
static __always_inline __u32 resolve_relative(char *buf, __u64 off, __u32 n, int dirfd, __u32 *str_flags,
                                              __u32 resolved_bit, __u32 truncated_bit)
{
        char *joined;
        long start;
        __u32 len;

        off &= SCRATCH_SIZE / 2 - 1;
        if (n <= 1 || buf[off] == '/')
                return n;
        start = dir_path(buf, dirfd);
        if (start < 0 || start > DIR_MAX)
                return n;
        buf[DIR_REGION + DIR_MAX] = '/';
        bpf_probe_read_kernel(buf + DIR_REGION + DIR_MAX + 1, n & (LG_PATH_MAX * 2 - 1), buf + off);
        joined = buf + DIR_REGION + (start & (2 * DIR_MAX - 1));
        len = DIR_MAX - start + n; /* directory, '/', relative path; without the NUL */
        if (len > LG_PATH_MAX - 1) {
                len = LG_PATH_MAX - 1;
                *str_flags |= truncated_bit;
        }
        bpf_probe_read_kernel(buf + off, len & (LG_PATH_MAX - 1), joined);
        buf[(off + (len & (LG_PATH_MAX - 1))) & (SCRATCH_SIZE / 2 - 1)] = 0;
        *str_flags |= resolved_bit;
        return len + 1;
}

/* Reads a user string into buf at off; returns its length with the NUL, at least 1. */
static __always_inline __u32 read_path(char *buf, __u64 off, const char *user, __u32 *truncated, __u32 bit)
{
        long n;

        off &= SCRATCH_SIZE / 2 - 1;
        n = bpf_probe_read_user_str(buf + off, LG_PATH_MAX, user);
        if (n <= 0) {
                buf[off] = 0;
                return 1;
        }
        if (n == LG_PATH_MAX)
                *truncated |= bit;
        return n & (LG_PATH_MAX * 2 - 1);
}

static __always_inline int file_enter(__u32 op, int dirfd1, const char *path1, int dirfd2, const char *path2,
                                      __u32 flags)
{
        __u64 off = sizeof(struct lg_event_header) + sizeof(struct lg_file);
        struct lg_file *f;
        char *buf;
        __u32 n1, n2 = 0;
        bool watched;

        if (filtered())
                return 0;
        buf = scratch_get();
        if (!buf)
                return 0;
        f = (void *)(buf + sizeof(struct lg_event_header));
        f->str_flags = 0;
        n1 = read_path(buf, off, path1, &f->str_flags, LG_FILE_PATH_TRUNCATED);
        n1 = resolve_relative(buf, off, n1, dirfd1, &f->str_flags, LG_FILE_PATH_RESOLVED,
                              LG_FILE_PATH_TRUNCATED);
        watched = path_watched(buf + off);
        if (path2) {
                n2 = read_path(buf, off + n1, path2, &f->str_flags, LG_FILE_PATH2_TRUNCATED);
                n2 = resolve_relative(buf, off + n1, n2, dirfd2, &f->str_flags, LG_FILE_PATH2_RESOLVED,
                                      LG_FILE_PATH2_TRUNCATED);
                watched = watched || path_watched(buf + ((off + n1) & (SCRATCH_SIZE / 2 - 1)));
        }
        if (!watched)
                return 0;
        fill_header((void *)buf, LG_EVENT_FILE);
        f->op = op;
        f->result = 0;
        f->flags = flags;
        f->mode = 0;
        f->path_len = n1;
        f->path2_len = n2;
        ((struct lg_event_header *)buf)->size = off + n1 + n2;
        pending_put(buf);
        return 0;
}

static __always_inline int file_exit(struct trace_event_raw_sys_exit *ctx)
{
        struct lg_event_header *h;
        struct lg_file *f;
        struct pending *p;
        __u64 size;

        p = pending_take();
        if (!p)
                return 0;
        h = (void *)p->buf;
        f = (void *)(p->buf + sizeof(*h));
        size = h->size;
        if (h->type == LG_EVENT_FILE && size <= PENDING_SIZE) {
                f->result = ctx->ret;
                submit(p->buf, size);
        }
        return 0;
}

#define FILE_EXIT(name)                                               \
        SEC("tp/syscalls/sys_exit_" #name)                            \
        int lg_file_exit_##name(struct trace_event_raw_sys_exit *ctx) \
        {                                                             \
                return file_exit(ctx);                                \
        }

/* Opens are the hottest path (every open(2) on the host runs it), so they are reported from the exit
 * tracepoint alone: the arguments are still in the task's saved user registers and the path in its memory.
 * One program per open instead of two, and no pending slot to fill and copy. */
static __always_inline int open_exit(struct trace_event_raw_sys_exit *ctx, int dirfd, const char *path,
                                     __u32 flags, __u32 mode)
{
        __u64 off = sizeof(struct lg_event_header) + sizeof(struct lg_file);
        struct lg_file *f;
        char *buf;
        __u32 n;

        if (filtered())
                return 0;
        buf = scratch_get();
        if (!buf)
                return 0;
        f = (void *)(buf + sizeof(struct lg_event_header));
        f->str_flags = 0;
        n = read_path(buf, off, path, &f->str_flags, LG_FILE_PATH_TRUNCATED);
        n = resolve_relative(buf, off, n, dirfd, &f->str_flags, LG_FILE_PATH_RESOLVED,
                             LG_FILE_PATH_TRUNCATED);
        if (!path_watched(buf + off))
                return 0;
        fill_header((void *)buf, LG_EVENT_FILE);
        f->op = LG_FILE_OPEN;
        f->result = ctx->ret;
        f->flags = flags;
        f->mode = mode;
        f->path_len = n;
        f->path2_len = 0;
        submit(buf, off + n);
        return 0;
}

static __always_inline struct pt_regs *user_regs(void)
{
        return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

SEC("tp/syscalls/sys_exit_open")
int lg_file_exit_open(struct trace_event_raw_sys_exit *ctx)
{
        struct pt_regs *regs = user_regs();

        return open_exit(ctx, AT_FDCWD, (const char *)PT_REGS_PARM1_SYSCALL(regs),
                         PT_REGS_PARM2_SYSCALL(regs), PT_REGS_PARM3_SYSCALL(regs));
}

SEC("tp/syscalls/sys_exit_openat")
int lg_file_exit_openat(struct trace_event_raw_sys_exit *ctx)
{
        struct pt_regs *regs = user_regs();

        return open_exit(ctx, (int)PT_REGS_PARM1_SYSCALL(regs), (const char *)PT_REGS_PARM2_SYSCALL(regs),
                         PT_REGS_PARM3_SYSCALL(regs), PT_REGS_PARM4_SYSCALL(regs));
}

SEC("tp/syscalls/sys_exit_openat2")
int lg_file_exit_openat2(struct trace_event_raw_sys_exit *ctx)
{
        struct pt_regs *regs = user_regs();
        struct open_how how = {};

        bpf_probe_read_user(&how, sizeof(how), (void *)PT_REGS_PARM3_SYSCALL(regs));
        return open_exit(ctx, (int)PT_REGS_PARM1_SYSCALL(regs), (const char *)PT_REGS_PARM2_SYSCALL(regs),
                         how.flags, how.mode);
}

SEC("tp/syscalls/sys_enter_unlink")
int lg_file_enter_unlink(struct trace_event_raw_sys_enter *ctx)
{
        return file_enter(LG_FILE_UNLINK, AT_FDCWD, (const char *)ctx->args[0], AT_FDCWD, NULL, 0);
}
FILE_EXIT(unlink)

SEC("tp/syscalls/sys_enter_unlinkat")
int lg_file_enter_unlinkat(struct trace_event_raw_sys_enter *ctx)
{
        return file_enter(LG_FILE_UNLINK, (int)ctx->args[0], (const char *)ctx->args[1], AT_FDCWD, NULL,
                          ctx->args[2]);
}
FILE_EXIT(unlinkat)

SEC("tp/syscalls/sys_enter_rename")
int lg_file_enter_rename(struct trace_event_raw_sys_enter *ctx)
{
        return file_enter(LG_FILE_RENAME, AT_FDCWD, (const char *)ctx->args[0], AT_FDCWD,
                          (const char *)ctx->args[1], 0);
}
FILE_EXIT(rename)

SEC("tp/syscalls/sys_enter_renameat")
int lg_file_enter_renameat(struct trace_event_raw_sys_enter *ctx)
{
        return file_enter(LG_FILE_RENAME, (int)ctx->args[0], (const char *)ctx->args[1], (int)ctx->args[2],
                          (const char *)ctx->args[3], 0);
}
FILE_EXIT(renameat)

SEC("tp/syscalls/sys_enter_renameat2")
int lg_file_enter_renameat2(struct trace_event_raw_sys_enter *ctx)
{
        return file_enter(LG_FILE_RENAME, (int)ctx->args[0], (const char *)ctx->args[1], (int)ctx->args[2],
                          (const char *)ctx->args[3], ctx->args[4]);
}
FILE_EXIT(renameat2)
