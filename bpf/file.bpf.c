// SPDX-License-Identifier: GPL-2.0-or-later
/* The file sensor: open, unlink and rename of paths under the watched prefixes.
 *
 * Unlink and rename are recorded at entry and reported at exit with the result; opens, the hottest path,
 * from the exit tracepoint alone (open_exit() says how). A relative path is joined to its directory in
 * the kernel before the prefix match, so "cd /etc; cat shadow" matches /etc/ too. */

#include "linuxguard.bpf.h"

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
