// SPDX-License-Identifier: GPL-2.0-or-later
/* The network sensor: TCP connect and accept, IPv4 and IPv6.
 *
 * connect() keeps its fd in connect_fds from entry to exit, because sys_exit_connect carries only the
 * result; accept() returns the fd itself. Both report the socket's 4-tuple as it is at exit. */

#include "linuxguard.bpf.h"

#define EINPROGRESS 115
#define AF_INET     2
#define AF_INET6    10
#define SOCK_STREAM 1
#define IPPROTO_TCP 6

struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, 1024);
        __type(key, __u32);   /* tid */
        __type(value, __s32); /* fd passed to connect() */
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
        __u32 tid = (__u32)bpf_get_current_pid_tgid();
        __s32 fd = ctx->args[0];

        if (filtered())
                return 0;
        bpf_map_update_elem(&connect_fds, &tid, &fd, BPF_ANY);
        return 0;
}

SEC("tp/syscalls/sys_exit_connect")
int lg_net_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
        __u32 tid = (__u32)bpf_get_current_pid_tgid();
        __s32 *fd = bpf_map_lookup_elem(&connect_fds, &tid);
        __s32 ret = ctx->ret;

        if (!fd)
                return 0;
        if (ret == 0 || ret == -EINPROGRESS)
                net_report(LG_NET_CONNECT, *fd, ret);
        bpf_map_delete_elem(&connect_fds, &tid);
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
