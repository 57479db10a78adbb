#pragma once
/* Everything `start` resolves before touching the system: settings, profile, workload identity. Pure. */

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "core/mode.h"
#include "core/settings.h"
#include "core/workload-identity.h"

typedef struct AgentConfig {
        Settings settings;
        Profile profile;
        char workload_id[SHA256_HEX_SIZE];
        IdentitySource workload_id_source;
        bool has_workload_id;
        bool config_file_found;
        bool token_from_file; /* the token was read from --enroll-token-file */
} AgentConfig;

typedef struct ResolveInputs {
        Settings *flags, *env, *file; /* layers; emptied (moved) into the result */
        bool config_file_found;
        const char *pid1_sentinel; /* LINUXGUARD_PID1_CHILD, NULL if unset */
        pid_t pid, ppid;
        const char *machine_id; /* app-specific machine id, NULL if unavailable */
} ResolveInputs;

/* Returns 0, or -EINVAL with the message in `error` (e.g. the spec's missing-identity text). */
int agent_config_resolve(ResolveInputs *in, AgentConfig *ret, char *error, size_t error_size);
void agent_config_done(AgentConfig *c);

/* The --dry-run report: mode, triggers, profile, identity, every setting with its source. No secrets. */
void agent_config_print(const AgentConfig *c, FILE *f);
