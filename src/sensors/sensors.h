#pragma once
/* The eBPF sensors, loaded and attached in-process; their ring buffer is drained from an sd-event loop. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "event-decode.h"
#include "macro.h"
#include "time-util.h"

#define SENSORS_DEFAULT_RING_SIZE     (4U * 1024U * 1024U)
#define SENSORS_DEFAULT_POLL_INTERVAL (100 * USEC_PER_MSEC)

typedef struct SensorsConfig {
        bool process; /* exec, exit, setuid family, capset */
        bool file;    /* open, unlink, rename under file_prefixes */
        bool network; /* TCP connect and accept */
        bool kernel;  /* module loads, ptrace attach, BPF program loads */
        /* Absolute path prefixes watched by the file sensor; NULL: SENSORS_DEFAULT_FILE_PREFIXES. At most
         * LG_FILE_PREFIX_MAX, each shorter than LG_FILE_PREFIX_LEN. */
        const char *const *file_prefixes;
        size_t n_file_prefixes;
        size_t ring_size;     /* bytes, rounded up to a power of two of at least a page; 0: default */
        size_t wakeup_bytes;  /* pending bytes that wake the loop at once; 0: ring_size / 16; 1: always */
        usec_t poll_interval; /* the loop drains at least this often; 0: default */
        pid_t exclude_pid;    /* never reported; 0: this process, -1: none */
        const uint32_t *pid_allow; /* when non-empty, only these processes (thread group ids) */
        size_t n_pid_allow;
        const uint32_t *pid_deny;
        size_t n_pid_deny;
        const uint64_t *cgroup_allow; /* cgroup v2 ids, when non-empty only these */
        size_t n_cgroup_allow;
        const uint64_t *cgroup_deny;
        size_t n_cgroup_deny;
} SensorsConfig;

extern const char *const SENSORS_DEFAULT_FILE_PREFIXES[];
extern const size_t SENSORS_N_DEFAULT_FILE_PREFIXES;

typedef struct SensorsStats {
        uint64_t ring_drops;        /* records the kernel could not queue: each is a sequence gap */
        uint64_t pending_overflows; /* syscalls not reported: no memory to track them until they return */
        uint64_t decode_errors;     /* records rejected by event_decode() */
        uint64_t events;            /* records handed to the handler */
        uint64_t last_seq;          /* highest sequence number seen */
        unsigned programs_attached;
        unsigned programs_unavailable; /* tracepoints this kernel lacks (e.g. module:module_load) */
} SensorsStats;

/* Called once per decoded record; the event and its strings are valid only during the call. A negative
 * return is logged at debug level and otherwise ignored. */
typedef int (*SensorsHandler)(const LgEvent *ev, void *userdata);
/* Called after each drain that delivered records, so output can be flushed once per batch. */
typedef void (*SensorsBatchEnd)(void *userdata);

typedef struct Sensors Sensors;

/* All sensors on, default prefixes and sizes, this process excluded. */
void sensors_config_init(SensorsConfig *cfg);

int sensors_new(Sensors **ret, const SensorsConfig *cfg);
Sensors *sensors_free(Sensors *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Sensors *, sensors_free);

/* Opens, loads and attaches the kernel programs. -errno on failure (-EPERM: not allowed to use bpf()). */
int sensors_load_and_attach(Sensors *s);
/* Adds the ring buffer ("sensors-ring") and the drain timer ("sensors-poll") to the loop. */
int sensors_attach_event(Sensors *s, sd_event *e, SensorsHandler handler, SensorsBatchEnd batch_end,
                         void *userdata);
/* Drains the ring buffer now, e.g. before exit. Returns the number of records delivered. */
int sensors_drain(Sensors *s);

/* Records lost because the ring buffer was full, summed over CPUs. */
int sensors_read_drops(Sensors *s, uint64_t *ret);
int sensors_read_stats(Sensors *s, SensorsStats *ret);

/* What to add to a record's CLOCK_BOOTTIME stamp to get CLOCK_REALTIME, now. */
int64_t sensors_boot_to_realtime_ns(void);
