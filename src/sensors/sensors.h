#pragma once
/* The eBPF sensors, loaded and attached in-process; their ring buffer is drained from an sd-event loop. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "core/event-decode.h"
#include "core/settings.h"
#include "util/hash-util.h"
#include "util/macro.h"
#include "util/time-util.h"

#define SENSORS_DEFAULT_RING_SIZE     ((size_t)SETTING_DEFAULT_RING_BUFFER_SIZE) /* the settings table's */
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
        /* The settings this configuration was made from (sensors-settings.h), kept with a pinned set;
         * NULL: none recorded. */
        const char *settings_record;
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
/* Shutdown: starts detaching the programs in the background (no new records after a moment; those in the
 * ring buffer stay readable). sensors_free() waits for it to finish. Pinned programs stay attached. */
void sensors_detach(Sensors *s);

/* The kernel's id of the ring buffer map, which names this load of the programs: the sequence numbers'
 * scope. Every agent reading one pinned set sees the same id; a new load gets a new one (ids are not
 * reused within a boot). -EBADF before the programs are loaded or opened. */
int sensors_load_id(Sensors *s, uint32_t *ret);
/* Records lost because the ring buffer was full, summed over CPUs. */
int sensors_read_drops(Sensors *s, uint64_t *ret);
int sensors_read_stats(Sensors *s, SensorsStats *ret);

/* ---- the pinned set (linuxguard bpf load|unload) ------------------------------------------------------ */

#define SENSORS_PIN_DIR "/sys/fs/bpf/linuxguard"

enum {
        SENSORS_PIN_PROCESS = 1U << 0,
        SENSORS_PIN_FILE = 1U << 1,
        SENSORS_PIN_NETWORK = 1U << 2,
        SENSORS_PIN_KERNEL = 1U << 3,
};

/* The marker pinned beside the programs: which build loaded them. */
typedef struct SensorsPinInfo {
        char version[32];                  /* PACKAGE_VERSION of the loader */
        char object_hash[SHA256_HEX_SIZE]; /* SHA-256 of its BPF object */
        unsigned sensors;                  /* SENSORS_PIN_* */
        uint64_t ring_size;
} SensorsPinInfo;

/* This build's marker. */
int sensors_pin_info_self(SensorsPinInfo *ret);
/* Parses the marker's text ("linuxguard VERSION object HASH sensors N ring BYTES"); -EBADMSG if malformed.
 */
int sensors_pin_marker_parse(const char *text, SensorsPinInfo *ret);
/* Reads the marker of the set pinned in `dir`: 0 when this build loaded it; -ESTALE from another build
 * (`ret` names it); -ENOENT none; -EBADMSG the directory exists but its marker is missing or malformed. */
int sensors_pinned_probe(const char *dir, SensorsPinInfo *ret);
/* "the BPF programs pinned in DIR were loaded by linuxguard X ..., this is linuxguard Y ...; replace them
 * with ...": the refusal, for logs and `bpf load`. */
void sensors_pin_mismatch_message(const SensorsPinInfo *found, const char *dir, char *buf, size_t size);
/* After sensors_load_and_attach(): pins links, the maps user space reads, the pid and cgroup filter maps,
 * the settings record and the marker as `dir`, all at once (built beside it, then renamed). `dir` must
 * not exist. */
int sensors_pin(Sensors *s, const char *dir);
/* Instead of sensors_load_and_attach(): reuses the set pinned in `dir` (ring buffer, counters) and writes
 * exclude_pid into its agent map. Needs no load privileges. Errors as sensors_pinned_probe(); on failure
 * `s` is unchanged. `ret_info`, if not NULL, receives the marker found. */
int sensors_open_pinned(Sensors *s, const char *dir, SensorsPinInfo *ret_info);
/* The settings record (SensorsConfig.settings_record) of the set pinned in `dir`, as a string the caller
 * frees. -ENOENT when the set holds none. */
int sensors_pinned_settings(const char *dir, char **ret);
/* Removes `dir` and everything under it, detaching the programs. 0 if it did not exist, 1 if removed. */
int sensors_unpin(const char *dir);

/* What to add to a record's CLOCK_BOOTTIME stamp to get CLOCK_REALTIME, now. */
int64_t sensors_boot_to_realtime_ns(void);
