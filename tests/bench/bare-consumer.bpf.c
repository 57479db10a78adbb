// SPDX-License-Identifier: GPL-2.0-or-later
/* The benchmark's yardstick: the least a batched ring-buffer consumer can do per open. One tracepoint,
 * filtered to one thread group, a fixed-size record with the path, and a wake-up only once enough data is
 * pending (BPF_RB_NO_WAKEUP otherwise); user space also polls with a short timeout. */

#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid = 0;
const volatile __u64 wakeup_bytes = 0;

struct bare_record {
        __u32 pid;
        __u32 tid;
        __u64 ts_ns;
        char path[256];
};

struct {
        __uint(type, BPF_MAP_TYPE_RINGBUF);
        __uint(max_entries, 4 * 1024 * 1024);
} bare_events SEC(".maps");

__u64 bare_drops = 0;

SEC("tp/syscalls/sys_enter_openat")
int bare_openat(struct trace_event_raw_sys_enter *ctx)
{
        __u64 id = bpf_get_current_pid_tgid();
        struct bare_record *r;

        if (id >> 32 != target_tgid)
                return 0;
        r = bpf_ringbuf_reserve(&bare_events, sizeof(*r), 0);
        if (!r) {
                __sync_fetch_and_add(&bare_drops, 1);
                return 0;
        }
        r->pid = id >> 32;
        r->tid = (__u32)id;
        r->ts_ns = bpf_ktime_get_boot_ns();
        bpf_probe_read_user_str(r->path, sizeof(r->path), (const char *)ctx->args[1]);
        bpf_ringbuf_submit(r, bpf_ringbuf_query(&bare_events, BPF_RB_AVAIL_DATA) >= wakeup_bytes
                                      ? BPF_RB_FORCE_WAKEUP
                                      : BPF_RB_NO_WAKEUP);
        return 0;
}
