#pragma once
/* What the eBPF sensors need from the host, checked one requirement at a time with the fix for each; used
 * by `linuxguard check` and for the agent's degraded reason. Gathering touches the system; evaluating,
 * parsing and formatting are pure. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/caps-preflight.h"

#define PREFLIGHT_MIN_KERNEL_MAJOR 5 /* the BPF ring buffer arrived in 5.8 */
#define PREFLIGHT_MIN_KERNEL_MINOR 8
#define PREFLIGHT_MAX_CHECKS       16

typedef enum PreflightResult {
        PREFLIGHT_PASS,
        PREFLIGHT_FAIL,
        PREFLIGHT_INFO, /* reported, never decides anything */
} PreflightResult;

/* Facts about the host, as found. Each "has_" flag says the source could be read. */
typedef struct PreflightFacts {
        char machine[65]; /* uname -m */
        char release[65]; /* uname -r */
        bool btf;         /* /sys/kernel/btf/vmlinux exists */
        int bpf_probe;    /* 0: a trivial BPF_PROG_LOAD worked; -errno otherwise */
        int seccomp_mode; /* Seccomp: of /proc/self/status; -1 unknown */
        bool has_caps;
        CapsState caps;
        const char *tracefs;    /* where tracefs is mounted, NULL: nowhere */
        int tracefs_error;      /* 0: its events directory is readable; -errno otherwise */
        bool tracefs_automount; /* not gathered: the caller's profile lets the agent mount tracefs */
        int bpffs;              /* 0: /sys/fs/bpf is a writable bpffs; -ENOENT not bpffs; -EACCES, -EROFS */
        uint64_t memlock;       /* RLIMIT_MEMLOCK soft limit, UINT64_MAX for unlimited */
        bool has_lockdown;
        char lockdown[128]; /* /sys/kernel/security/lockdown */
        bool has_perf_event_paranoid;
        char perf_event_paranoid[32]; /* /proc/sys/kernel/perf_event_paranoid */
} PreflightFacts;

typedef struct PreflightCheck {
        const char *name; /* stable identifier: "kernel_version", "bpf_syscall", "cap_bpf", ... */
        PreflightResult result;
        bool required; /* a failure keeps the sensors from running */
        char detail[192];
        char fix[192]; /* empty unless the check failed */
} PreflightCheck;

typedef struct PreflightReport {
        PreflightCheck checks[PREFLIGHT_MAX_CHECKS];
        size_t n_checks;
} PreflightReport;

/* "6.18.44-foo" -> 6, 18. -EINVAL when it does not start with MAJOR.MINOR. */
int preflight_parse_kernel_release(const char *release, unsigned *ret_major, unsigned *ret_minor);
/* "none [integrity] confidentiality" -> "integrity". -EINVAL without a bracketed mode. */
int preflight_parse_lockdown(const char *content, char *ret, size_t size);
/* "2\n" -> 2. -EINVAL for anything but one integer. */
int preflight_parse_perf_event_paranoid(const char *content, int *ret);
/* The Seccomp: field of /proc/PID/status: 0 none, 1 strict, 2 filter. -ENOENT without the field. */
int preflight_parse_seccomp_mode(const char *status, int *ret);
/* Whether linuxguard has BPF programs for this uname -m, and it is the architecture it was built for. */
bool preflight_arch_supported(const char *machine);

/* Reads the facts from the running system. Never fails: what cannot be read is recorded as such. */
void preflight_gather(PreflightFacts *ret);
void preflight_evaluate(const PreflightFacts *facts, PreflightReport *ret);
/* preflight_gather() + preflight_evaluate(); `tracefs_automount` is the profile's mount_tracefs, false once
 * the agent tried. */
void preflight_run(bool tracefs_automount, PreflightReport *ret);

#define PREFLIGHT_TRACEFS_PATH "/sys/kernel/tracing"
/* Mounts tracefs on PREFLIGHT_TRACEFS_PATH unless it is mounted at one of the places libbpf looks.
 * Returns 1 when it mounted it, 0 when it was there already, -errno (EPERM without CAP_SYS_ADMIN). */
int preflight_mount_tracefs(void);

bool preflight_sensors_can_run(const PreflightReport *r);
const char *preflight_result_to_string(PreflightResult result);

/* The degraded reason: the first failed required check, "NAME: DETAIL; fix: FIX", and how many more
 * failed. Returns the number of failed required checks; 0 leaves buf empty. */
size_t preflight_degraded_reason(const PreflightReport *r, char *buf, size_t size);

/* The report as an aligned table (CHECK, RESULT, DETAIL / FIX), then a verdict line. *ret is freed by the
 * caller. -ENOMEM. */
int preflight_format_table(const PreflightReport *r, char **ret);
/* {"sensors_can_run":BOOL,"checks":[{"check","result","required","detail","fix"},...]}, one line. */
int preflight_format_json(const PreflightReport *r, char **ret);
