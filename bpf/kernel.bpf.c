// SPDX-License-Identifier: GPL-2.0-or-later
/* The kernel sensor: module loads, ptrace attaches and BPF program loads, the ways into the kernel or
 * into another process.
 *
 * Each is one tracepoint and one record. module_load fires as the kernel loads a module; ptrace and bpf
 * are taken at syscall entry, so an attempt the kernel refuses is reported too. */

#include "linuxguard.bpf.h"

#define PTRACE_ATTACH     16
#define PTRACE_SEIZE      0x4206
#define BPF_PROG_LOAD_CMD 5

/* module:module_load, declared here because vmlinux.h lacks it on kernels built without modules. */
struct lg_tp_module_load {
        __u64 common;
        __u32 taints;
        __u32 data_loc_name;
};

SEC("tp/module/module_load")
int lg_kern_module_load(struct lg_tp_module_load *ctx)
{
        struct lg_module *m;
        char *buf;
        __u64 off = sizeof(struct lg_event_header) + sizeof(*m);
        long n;

        if (filtered())
                return 0;
        buf = scratch_get();
        if (!buf)
                return 0;
        fill_header((void *)buf, LG_EVENT_MODULE);
        m = (void *)(buf + sizeof(struct lg_event_header));
        m->taints = ctx->taints;
        m->reserved = 0;
        n = bpf_probe_read_kernel_str(buf + off, LG_NAME_MAX, (void *)ctx + (ctx->data_loc_name & 0xFFFF));
        if (n <= 0) {
                buf[off] = 0;
                n = 1;
        }
        m->name_len = n;
        submit(buf, off + (n & (LG_NAME_MAX * 2 - 1)));
        return 0;
}

SEC("tp/syscalls/sys_enter_ptrace")
int lg_kern_enter_ptrace(struct trace_event_raw_sys_enter *ctx)
{
        struct lg_ptrace *p;
        char *buf;
        long request = ctx->args[0];

        if ((request != PTRACE_ATTACH && request != PTRACE_SEIZE) || filtered())
                return 0;
        buf = scratch_get();
        if (!buf)
                return 0;
        fill_header((void *)buf, LG_EVENT_PTRACE);
        p = (void *)(buf + sizeof(struct lg_event_header));
        p->request = request;
        p->target_pid = ctx->args[1];
        submit(buf, sizeof(struct lg_event_header) + sizeof(*p));
        return 0;
}

/* Offsets in union bpf_attr for BPF_PROG_LOAD: stable UAPI. */
#define BPF_ATTR_PROG_TYPE 0
#define BPF_ATTR_INSN_CNT  4
#define BPF_ATTR_PROG_NAME 48
#define BPF_OBJ_NAME_LEN   16

SEC("tp/syscalls/sys_enter_bpf")
int lg_kern_enter_bpf(struct trace_event_raw_sys_enter *ctx)
{
        const char *attr = (const char *)ctx->args[1];
        struct lg_bpf_prog *b;
        char *buf;
        __u64 off = sizeof(struct lg_event_header) + sizeof(*b);
        long n;

        if (ctx->args[0] != BPF_PROG_LOAD_CMD || filtered())
                return 0;
        buf = scratch_get();
        if (!buf)
                return 0;
        fill_header((void *)buf, LG_EVENT_BPF_PROG);
        b = (void *)(buf + sizeof(struct lg_event_header));
        b->prog_type = 0;
        b->insn_cnt = 0;
        b->reserved = 0;
        b->reserved2 = 0;
        bpf_probe_read_user(&b->prog_type, sizeof(b->prog_type), attr + BPF_ATTR_PROG_TYPE);
        bpf_probe_read_user(&b->insn_cnt, sizeof(b->insn_cnt), attr + BPF_ATTR_INSN_CNT);
        n = bpf_probe_read_user_str(buf + off, BPF_OBJ_NAME_LEN, attr + BPF_ATTR_PROG_NAME);
        if (n <= 0) {
                buf[off] = 0;
                n = 1;
        }
        b->name_len = n;
        submit(buf, off + (n & (BPF_OBJ_NAME_LEN * 2 - 1)));
        return 0;
}
