#pragma once
/* The one mapping from the agent's settings to the sensors' configuration, for both loaders. */

#include <stddef.h>
#include <stdint.h>

#include "core/settings.h"
#include "sensors/sensors.h"

typedef struct SensorsSettings {
        SensorsConfig cfg; /* its lists and settings_record point into the fields below */
        char **file_prefixes;
        uint32_t *pid_allow, *pid_deny;
        uint64_t *cgroup_allow, *cgroup_deny;
        /* One "KEY = VALUE" line per sensor setting, cgroup paths with the ids they resolved to: what a
         * pinned set records and `bpf status` prints. */
        char *record;
} SensorsSettings;

/* Builds the sensors' configuration from resolved settings (defaults filled). cgroup v2 paths are
 * resolved to ids now. On a value that cannot be used writes "KEY: what is wrong" to `error` and returns
 * -errno (-ENOENT: a cgroup that does not exist). `ret` is owned by the caller either way. */
int sensors_config_from_settings(const Settings *s, SensorsSettings *ret, char *error, size_t error_size);
void sensors_settings_done(SensorsSettings *ss);

/* Compares the record a pinned set was loaded with to this agent's. Writes the keys that differ with
 * both values ("KEY: pinned A, here B; ...") to `buf` and returns how many differ. */
int sensors_settings_record_diff(const char *pinned, const char *own, char *buf, size_t size);
