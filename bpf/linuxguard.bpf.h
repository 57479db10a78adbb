// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
/* What every sensor's programs share: the maps and tunables defined once in linuxguard.bpf.c, and the
 * helpers that filter, stamp and submit a record.
 *
 * Each sensor is its own compilation unit; `bpftool gen object` links them into one object, so the maps
 * below are declared extern here and resolved by the linker to their one definition. Their types are
 * named (typedefs) because an extern declaration and its definition must agree, and the linker checks
 * that they do. The helpers are static __always_inline, as they were in the single file: a global
 * function would be linkable across units, but the verifier checks it on its own with only scalar
 * arguments and result (scratch_get() and pending_take() hand out map-value pointers), and the hot paths
 * would pay a call per helper. */

#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "linuxguard-events.h"

#define SCRATCH_SIZE 4096 /* power of two, at least 2 * LG_RECORD_MAX */
#define PENDING_SIZE 640  /* header + the largest syscall payload + its strings */

_Static_assert(sizeof(struct lg_event_header) + sizeof(struct lg_file) + 2 * LG_PATH_MAX <= PENDING_SIZE,
               "pending record too small");

struct scratch {
        char buf[SCRATCH_SIZE];
};

struct pending {
        __u32 active;
        __u32 reserved;
        char buf[PENDING_SIZE];
};

typedef struct {
        __uint(type, BPF_MAP_TYPE_RINGBUF);
        __uint(max_entries, 4 * 1024 * 1024);
} lg_events_map_t;

typedef struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, _LG_COUNTER_MAX);
        __type(key, __u32);
        __type(value, __u64);
} lg_counters_map_t;

typedef struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, struct scratch);
} lg_scratch_map_t;

/* The consuming agent, never reported. An array of one: the verifier inlines the lookup into two loads,
 * cheaper than a hash lookup on every traced syscall of every process. */
typedef struct {
        __uint(type, BPF_MAP_TYPE_ARRAY);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, struct lg_agent);
} lg_agent_map_t;

/* The syscall a thread is in, recorded at entry and reported at exit. Task storage rather than a hash
 * keyed by tid: no lookup cost, no table to fill, freed with the task. */
typedef struct {
        __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __type(key, int);
        __type(value, struct pending);
} lg_pending_map_t;

/* User space sizes the filter maps to their lists before load. */
typedef struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, __u8);
} lg_pid_filter_map_t;

typedef struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, 1);
        __type(key, __u64);
        __type(value, __u8);
} lg_cgroup_filter_map_t;

extern lg_events_map_t events SEC(".maps");
extern lg_counters_map_t counters SEC(".maps");
extern lg_scratch_map_t scratch_map SEC(".maps");
extern lg_agent_map_t agent_map SEC(".maps");
extern lg_pending_map_t pending_map SEC(".maps");
extern lg_pid_filter_map_t pid_allow SEC(".maps");
extern lg_pid_filter_map_t pid_deny SEC(".maps");
extern lg_cgroup_filter_map_t cgroup_allow SEC(".maps");
extern lg_cgroup_filter_map_t cgroup_deny SEC(".maps");

/* Tunables, set by user space before load (linuxguard.bpf.c says which). */
extern const volatile __u64 wakeup_bytes;
extern const volatile bool pid_allow_active;
extern const volatile bool pid_deny_active;
extern const volatile bool cgroup_allow_active;
extern const volatile bool cgroup_deny_active;
extern const volatile __u32 file_prefix_count;
extern const volatile char file_prefixes[LG_FILE_PREFIX_MAX][LG_FILE_PREFIX_LEN];

extern __u64 lg_seq;

static __always_inline void count(__u32 idx)
{
        __u64 *v = bpf_map_lookup_elem(&counters, &idx);

        if (v)
                __sync_fetch_and_add(v, 1);
}

static __always_inline void pending_put(const char *buf)
{
        struct pending *p = bpf_task_storage_get(&pending_map, bpf_get_current_task_btf(), 0,
                                                 BPF_LOCAL_STORAGE_GET_F_CREATE);

        __u32 size = ((const struct lg_event_header *)buf)->size;

        if (!p) {
                count(LG_COUNTER_PENDING_FULL);
                return;
        }
        /* Only the record, not the whole slot: most are a fifth of it. */
        if (size > sizeof(p->buf))
                size = sizeof(p->buf);
        bpf_probe_read_kernel(p->buf, size, buf);
        p->active = 1;
}

static __always_inline struct pending *pending_take(void)
{
        struct pending *p = bpf_task_storage_get(&pending_map, bpf_get_current_task_btf(), 0, 0);

        if (!p || !p->active)
                return NULL;
        p->active = 0;
        return p;
}

/* True when the current task must not be reported. */
static __always_inline bool filtered(void)
{
        __u32 tgid = bpf_get_current_pid_tgid() >> 32, zero = 0;
        struct lg_agent *agent = bpf_map_lookup_elem(&agent_map, &zero);

        if (agent && agent->tgid == tgid)
                return true;
        if (pid_allow_active && !bpf_map_lookup_elem(&pid_allow, &tgid))
                return true;
        if (pid_deny_active && bpf_map_lookup_elem(&pid_deny, &tgid))
                return true;
        if (cgroup_allow_active || cgroup_deny_active) {
                __u64 cg = bpf_get_current_cgroup_id();

                if (cgroup_allow_active && !bpf_map_lookup_elem(&cgroup_allow, &cg))
                        return true;
                if (cgroup_deny_active && bpf_map_lookup_elem(&cgroup_deny, &cg))
                        return true;
        }
        return false;
}

static __always_inline char *scratch_get(void)
{
        __u32 zero = 0;
        struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);

        return s ? s->buf : NULL;
}

static __always_inline void fill_creds(struct lg_event_header *h)
{
        struct task_struct *task = bpf_get_current_task_btf();
        const struct cred *cred = task->cred;
        __u64 ugid = bpf_get_current_uid_gid();

        h->uid = (__u32)ugid;
        h->gid = ugid >> 32;
        h->euid = cred->euid.val;
        h->egid = cred->egid.val;
}

/* Direct loads through the BTF task pointer: far cheaper than a bpf_probe_read_kernel() per field. */
static __always_inline void fill_header(struct lg_event_header *h, __u16 type)
{
        struct task_struct *task = bpf_get_current_task_btf();
        __u64 id = bpf_get_current_pid_tgid();

        h->type = type;
        h->size = 0;
        h->cpu = bpf_get_smp_processor_id();
        h->flags = 0;
        h->seq = 0;
        h->ts_ns = bpf_ktime_get_boot_ns();
        h->cgroup_id = bpf_get_current_cgroup_id();
        h->pid = id >> 32;
        h->tid = (__u32)id;
        h->ppid = task->real_parent->tgid;
        fill_creds(h);
        h->auid = (__u32)-1;
        if (bpf_core_field_exists(task->loginuid))
                h->auid = task->loginuid.val;
        bpf_get_current_comm(h->comm, sizeof(h->comm));
}

/* Numbers the record and offers it to the ring buffer; a refusal is counted, leaving a gap. */
static __always_inline void submit(void *rec, __u64 size)
{
        struct lg_event_header *h = rec;
        __u64 flags;

        if (size < sizeof(*h) || size > LG_RECORD_MAX)
                return;
        h->size = size;
        h->seq = __sync_fetch_and_add(&lg_seq, 1) + 1;
        flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + size >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
                                                                                     : BPF_RB_NO_WAKEUP;
        if (bpf_ringbuf_output(&events, rec, size, flags) < 0)
                count(LG_COUNTER_RING_FULL);
}

/* The file behind one of the current task's descriptors, NULL if there is none (file and network). */
static __always_inline struct file *file_from_fd(int fd)
{
        struct task_struct *task = (void *)bpf_get_current_task();
        struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
        struct file **fds;
        struct file *file = NULL;

        if (fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
                return NULL;
        fds = BPF_CORE_READ(fdt, fd);
        bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
        return file;
}
