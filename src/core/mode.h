#pragma once
/* The mode resolver: a pure function from (options, environment, pid) to a Profile, the struct of every
 * behaviour that differs between a host install and an ephemeral container. Code asks the profile. */

#include <stdbool.h>
#include <sys/types.h>

typedef enum AgentMode {
        MODE_HOST,
        MODE_EPHEMERAL,
} AgentMode;

/* Which ephemeral triggers fired (a bit set). */
typedef enum ModeTrigger {
        TRIGGER_FLAG = 1 << 0,     /* --ephemeral */
        TRIGGER_TOKEN = 1 << 1,    /* non-empty --enroll-token or LINUXGUARD_ENROLL_TOKEN */
        TRIGGER_PID1 = 1 << 2,     /* getpid() == 1 */
        TRIGGER_SENTINEL = 1 << 3, /* LINUXGUARD_PID1_CHILD set by our own init shim */
} ModeTrigger;

typedef enum CredentialStore {
        CREDENTIALS_DISK,   /* persisted enrolment under the state directory */
        CREDENTIALS_MEMORY, /* in memory only; optionally mirrored to the tmpfs TLS cache */
} CredentialStore;

/* Who decides the mode: `start` asks the triggers; enroll, bpf and status act for the host, whoever runs
 * them (as PID 1 in a container too) and with whatever is in their environment. */
typedef enum ModeChoice {
        MODE_CHOICE_TRIGGERS,
        MODE_CHOICE_HOST,
} ModeChoice;

typedef struct ModeInputs {
        ModeChoice choice;
        bool flag_ephemeral;
        const char *enroll_token;  /* the effective token (flag or environment), may be NULL */
        const char *pid1_sentinel; /* value of LINUXGUARD_PID1_CHILD, may be NULL */
        pid_t pid;
        bool built_with_loader_embedded;
} ModeInputs;

typedef struct Profile {
        AgentMode mode;
        unsigned triggers;     /* ModeTrigger bits that fired */
        bool pid_file;         /* EnsureNotRunning + WritePID */
        const char *state_dir; /* persistent state, NULL when nothing may be written */
        CredentialStore credentials;
        bool sd_notify;
        bool control_system_bus; /* the control API also on the system bus as org.linuxguard.Agent1 */
        bool pid1_shim;          /* this process becomes the init shim and re-executes the agent */
        bool log_to_journal;     /* use the journal when systemd connected stderr to it */
        bool loader_embedded;    /* default for the eBPF loader */
        bool mount_tracefs;      /* mount tracefs on /sys/kernel/tracing when absent: the host is ours to
                                  * set up; a container's mounts are its runtime's */
        bool sentinel_misuse;    /* the sentinel is set but our parent is not PID 1 */
} Profile;

#define PID1_SENTINEL_ENV "LINUXGUARD_PID1_CHILD"
#define HOST_STATE_DIR    "/var/lib/linuxguard"
#define RUNTIME_DIR       "/run/linuxguard"

void mode_resolve(const ModeInputs *in, pid_t parent_pid, Profile *ret);

const char *agent_mode_to_string(AgentMode m);
/* Writes the names of the fired triggers, comma separated, e.g. "--ephemeral, PID 1". */
void mode_triggers_to_string(unsigned triggers, char *buf, size_t size);
