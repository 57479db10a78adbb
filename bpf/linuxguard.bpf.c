// SPDX-License-Identifier: GPL-2.0-or-later
/* linuxguard's sensors: filter, copy, submit. This unit holds what they share (the license, the maps,
 * the tunables, the sequence counter), defined once; each sensor is its own unit (process.bpf.c,
 * file.bpf.c, network.bpf.c, kernel.bpf.c), and `bpftool gen object` links them all into the one object
 * the skeleton embeds. linuxguard.bpf.h declares what is defined here and holds the common helpers.
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
