#pragma once
/* Everything a subcommand resolves before touching the system: settings, profile, workload identity.
 * Pure but for agent_config_load(), which reads the config file. */

#include <stdbool.h>
#include <stddef.h>
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
        ModeChoice mode;
        bool config_file_found;
        const char *pid1_sentinel; /* LINUXGUARD_PID1_CHILD, NULL if unset */
        pid_t pid, ppid;
        const char *machine_id; /* app-specific machine id, NULL if unavailable */
} ResolveInputs;

/* Returns 0, or -EINVAL with the message in `error` (e.g. the spec's missing-identity text). */
int agent_config_resolve(ResolveInputs *in, AgentConfig *ret, char *error, size_t error_size);

typedef struct AgentConfigRequest {
        ModeChoice mode;
        Settings *flags;         /* the command line's layer, emptied (moved) into the result; NULL: none */
        const char *const *envp; /* "KEY=value" strings for the environment layer; NULL: no such layer */
        bool ignore_env_token;   /* LINUXGUARD_ENROLL_TOKEN is no setting here (`enroll` reads stdin) */
        /* A token handed over outside the environment (the PID 1 shim's pipe): it replaces the
         * environment's, below the flags. NULL: none. */
        const char *enroll_token;
        /* The config file: NULL for the flags' --config (then required), else DEFAULT_CONFIG_FILE (may be
         * missing). An explicit path here is required. */
        const char *config_file;
        const char *pid1_sentinel; /* LINUXGUARD_PID1_CHILD, NULL if unset */
        pid_t pid, ppid;
        const char *machine_id; /* app-specific machine id, NULL if unavailable */
} AgentConfigRequest;

/* The one way every subcommand gets its settings: builds the layers, default < config file < environment <
 * flags, and resolves them with agent_config_resolve(). Returns 0; -EINVAL (a bad value, file or
 * identity) or another -errno with the message in `error`; -ENOMEM. */
int agent_config_load(const AgentConfigRequest *req, AgentConfig *ret, char *error, size_t error_size);
void agent_config_done(AgentConfig *c);

/* The --dry-run report: mode, triggers, profile, identity, every setting with its source. No secrets. */
void agent_config_print(const AgentConfig *c, FILE *f);
