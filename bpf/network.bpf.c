// SPDX-License-Identifier: GPL-2.0-or-later
/* The network sensor: TCP connect and accept, IPv4 and IPv6.
 *
 * connect() keeps its fd in connect_fds from entry to exit, because sys_exit_connect carries only the
 * result; accept() returns the fd itself. Both report the socket's 4-tuple as it is at exit.
 *
 * connect_fds is task storage, not a table keyed by tid: a table has a size, and any user could fill it
 * with threads blocked in connect() (a listener that never accepts) so that everyone's connects go
 * unreported. A task's slot lives and dies with the task and no other task can take it; the one way to
 * lose a connect is the kernel refusing the memory for a new slot, which is counted as
 * LG_COUNTER_PENDING_FULL and reported with the other losses. */

#include "linuxguard.bpf.h"

#define EINPROGRESS 115
#define AF_INET     2
#define AF_INET6    10
#define SOCK_STREAM 1
#define IPPROTO_TCP 6

struct connect_slot {
        __s32 fd; /* passed to connect() */
        __u32 active;
};

struct {
        __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __type(key, int);
        __type(value, struct connect_slot);
} connect_fds SEC(".maps");

/* The 4-tuple is read from the socket behind the fd when the syscall returns, in the caller's context:
 * sock:inet_sock_set_state fires in softirq context for the transitions to ESTABLISHED (so the current task
 * is not the owner), and at CLOSE -> SYN_SENT the source port is not yet chosen. */
static __always_inline struct sock *sock_from_fd(int fd)
{
        struct file *file = file_from_fd(fd);
        struct socket *sock;

        if (!file)
                return NULL;
        sock = BPF_CORE_READ(file, private_data);
        return sock ? BPF_CORE_READ(sock, sk) : NULL;
}

static __always_inline void net_report(__u16 op, int fd, __s32 result)
{
        struct sock *sk = sock_from_fd(fd);
        struct lg_net *n;
        char *buf;
        __u16 family;

        if (!sk)
                return;
        family = BPF_CORE_READ(sk, __sk_common.skc_family);
        if (family != AF_INET && family != AF_INET6)
                return;
        if (BPF_CORE_READ(sk, sk_type) != SOCK_STREAM || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
                return;
        buf = scratch_get();
        if (!buf)
                return;
        fill_header((void *)buf, LG_EVENT_NET);
        n = (void *)(buf + sizeof(struct lg_event_header));
        __builtin_memset(n, 0, sizeof(*n));
        n->op = op;
        n->family = family;
        n->protocol = IPPROTO_TCP;
        n->result = result;
        n->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
        n->rport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
        if (family == AF_INET) {
                BPF_CORE_READ_INTO((__u32 *)n->laddr, sk, __sk_common.skc_rcv_saddr);
                BPF_CORE_READ_INTO((__u32 *)n->raddr, sk, __sk_common.skc_daddr);
        } else {
                bpf_core_read(n->laddr, sizeof(n->laddr), &sk->__sk_common.skc_v6_rcv_saddr);
                bpf_core_read(n->raddr, sizeof(n->raddr), &sk->__sk_common.skc_v6_daddr);
        }
        submit(buf, sizeof(struct lg_event_header) + sizeof(*n));
}

SEC("tp/syscalls/sys_enter_connect")
int lg_net_enter_connect(struct trace_event_raw_sys_enter *ctx)
{
        struct connect_slot *slot;

        if (filtered())
                return 0;
        slot = bpf_task_storage_get(&connect_fds, bpf_get_current_task_btf(), 0,
                                    BPF_LOCAL_STORAGE_GET_F_CREATE);
        if (!slot) {
                count(LG_COUNTER_PENDING_FULL);
                return 0;
        }
        slot->fd = ctx->args[0];
        slot->active = 1;
        return 0;
}

SEC("tp/syscalls/sys_exit_connect")
int lg_net_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
        struct connect_slot *slot = bpf_task_storage_get(&connect_fds, bpf_get_current_task_btf(), 0, 0);
        __s32 ret = ctx->ret;

        if (!slot || !slot->active)
                return 0;
        slot->active = 0;
        if (ret == 0 || ret == -EINPROGRESS)
                net_report(LG_NET_CONNECT, slot->fd, ret);
        return 0;
}

static __always_inline int accept_exit(struct trace_event_raw_sys_exit *ctx)
{
        if (ctx->ret < 0 || filtered())
                return 0;
        net_report(LG_NET_ACCEPT, ctx->ret, ctx->ret);
        return 0;
}

SEC("tp/syscalls/sys_exit_accept")
int lg_net_exit_accept(struct trace_event_raw_sys_exit *ctx)
{
        return accept_exit(ctx);
}

SEC("tp/syscalls/sys_exit_accept4")
int lg_net_exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
        return accept_exit(ctx);
}
