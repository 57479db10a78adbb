// SPDX-License-Identifier: GPL-2.0-or-later
/* The process sensor: exec, exit, and the credential changes (the setuid family, capset).
 *
 * Exec and exit are reported from the scheduler's tracepoints, in the task's own context. A credential
 * change is recorded at syscall entry with the credentials before it, and reported at exit with the
 * result and the credentials after it, so one record shows both sides. */

#include "linuxguard.bpf.h"

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
