/* The agent's sensors.* settings become a SensorsConfig here and nowhere else: the embedded loader
 * (`linuxguard start`) and the pinned one (`linuxguard bpf load`) both call sensors_config_from_settings(),
 * so a setting cannot take effect with one loader and be dropped by the other.
 *
 * The same pass writes a record of the settings, in config-file notation, that the pinned loader keeps
 * beside its set: `bpf status` prints it and an agent attaching to the set compares it with its own,
 * since the set's filters were fixed when it was loaded. cgroup paths carry the ids they resolved to:
 * a cgroup removed and created again under the same path is another cgroup to the kernel's filter. */

#include <errno.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "sensors/sensors-settings.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/strv.h"

void sensors_settings_done(SensorsSettings *ss)
{
        strv_free(ss->file_prefixes);
        free(ss->pid_allow);
        free(ss->pid_deny);
        free(ss->cgroup_allow);
        free(ss->cgroup_deny);
        free(ss->record);
        *ss = (SensorsSettings){};
}

/* Where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts. */
static const char *cgroup2_root(void)
{
        struct statfs sfs;

        if (statfs("/sys/fs/cgroup", &sfs) >= 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
                return "/sys/fs/cgroup";
        return "/sys/fs/cgroup/unified";
}

static void record_list(FILE *f, const char *key, char **items, size_t n, bool quoted)
{
        fprintf(f, "%s = [", key);
        for (size_t i = 0; i < n; i++)
                fprintf(f, quoted ? "%s \"%s\"" : "%s %s", i > 0 ? "," : "", items[i]);
        fputs(n > 0 ? " ]" : "]", f);
}

static int map_file_prefixes(const Settings *s, SensorsSettings *ss, FILE *f)
{
        int r;

        r = setting_list_split(settings_str(s, SETTING_FILE_PREFIXES) ?: "", &ss->file_prefixes,
                               &ss->cfg.n_file_prefixes);
        if (r < 0)
                return r;
        ss->cfg.file_prefixes = (const char *const *)ss->file_prefixes;
        record_list(f, setting_info(SETTING_FILE_PREFIXES)->key, ss->file_prefixes, ss->cfg.n_file_prefixes,
                    true);
        fputc('\n', f);
        return 0;
}

/* The elements of the list setting `id`, and a zeroed array for as many values of `elsize` bytes. */
static int split_list(const Settings *s, SettingId id, size_t elsize, char ***ret_l, size_t *ret_n,
                      void **ret_values)
{
        _cleanup_(strv_freep) char **l = NULL;
        size_t n;
        int r;

        r = setting_list_split(settings_str(s, id) ?: "", &l, &n);
        if (r < 0)
                return r;
        *ret_values = calloc(n ?: 1, elsize);
        if (!*ret_values)
                return -ENOMEM;
        *ret_l = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

static int map_pids(const Settings *s, SettingId id, uint32_t **ret, size_t *ret_n, FILE *f)
{
        _cleanup_(strv_freep) char **l = NULL;
        int r;

        r = split_list(s, id, sizeof(uint32_t), &l, ret_n, (void **)ret);
        if (r < 0)
                return r;
        for (size_t i = 0; i < *ret_n; i++)
                (*ret)[i] = (uint32_t)strtoul(l[i], NULL, 10); /* validated by the settings layer */
        record_list(f, setting_info(id)->key, l, *ret_n, false);
        fputc('\n', f);
        return 0;
}

/* A cgroup v2 id is the inode number of the cgroup's directory in the cgroup2 mount. */
static int resolve_cgroup(const char *key, const char *cgroup, uint64_t *ret, char *error, size_t error_size)
{
        _cleanup_free_ char *path = NULL;
        struct stat st;
        int r;

        if (asprintf(&path, "%s%s", cgroup2_root(), cgroup) < 0)
                return -ENOMEM;
        r = stat(path, &st) < 0 ? negative_errno() : S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
        if (r < 0) {
                snprintf(error, error_size,
                         "%s: cgroup %s (%s) cannot be used: %s. Paths are cgroup v2 paths relative to "
                         "/sys/fs/cgroup, e.g. /system.slice/docker.service.",
                         key, cgroup, path, strerror(-r));
                return r;
        }
        *ret = (uint64_t)st.st_ino;
        return 0;
}

static int map_cgroups(const Settings *s, SettingId id, uint64_t **ret, size_t *ret_n, FILE *f, char *error,
                       size_t error_size)
{
        const char *key = setting_info(id)->key;
        _cleanup_(strv_freep) char **l = NULL;
        int r;

        r = split_list(s, id, sizeof(uint64_t), &l, ret_n, (void **)ret);
        for (size_t i = 0; r >= 0 && i < *ret_n; i++)
                r = resolve_cgroup(key, l[i], &(*ret)[i], error, error_size);
        if (r < 0)
                return r;
        record_list(f, key, l, *ret_n, true);
        for (size_t i = 0; i < *ret_n; i++)
                fprintf(f, "%s%" PRIu64, i == 0 ? " (cgroup ids " : ", ", (*ret)[i]);
        fputs(*ret_n > 0 ? ")\n" : "\n", f);
        return 0;
}

static void record_bool(FILE *f, const Settings *s, SettingId id)
{
        fprintf(f, "%s = %s\n", setting_info(id)->key, settings_bool(s, id) ? "true" : "false");
}

int sensors_config_from_settings(const Settings *s, SensorsSettings *ret, char *error, size_t error_size)
{
        _cleanup_fclose_ FILE *f = NULL;
        SensorsConfig *cfg = &ret->cfg;
        size_t size = 0;
        int r;

        *ret = (SensorsSettings){};
        if (error_size > 0)
                error[0] = 0;
        sensors_config_init(cfg);
        f = open_memstream(&ret->record, &size);
        if (!f)
                return -ENOMEM;

        cfg->process = settings_bool(s, SETTING_SENSOR_PROCESS);
        cfg->file = settings_bool(s, SETTING_SENSOR_FILE);
        cfg->network = settings_bool(s, SETTING_SENSOR_NETWORK);
        cfg->kernel = settings_bool(s, SETTING_SENSOR_KERNEL);
        cfg->ring_size = settings_uint(s, SETTING_RING_BUFFER_SIZE);
        record_bool(f, s, SETTING_SENSOR_PROCESS);
        record_bool(f, s, SETTING_SENSOR_FILE);
        record_bool(f, s, SETTING_SENSOR_NETWORK);
        record_bool(f, s, SETTING_SENSOR_KERNEL);
        fprintf(f, "%s = %zu\n", setting_info(SETTING_RING_BUFFER_SIZE)->key, cfg->ring_size);

        r = map_file_prefixes(s, ret, f);
        if (r >= 0)
                r = map_pids(s, SETTING_PID_ALLOW, &ret->pid_allow, &cfg->n_pid_allow, f);
        if (r >= 0)
                r = map_pids(s, SETTING_PID_DENY, &ret->pid_deny, &cfg->n_pid_deny, f);
        if (r >= 0)
                r = map_cgroups(s, SETTING_CGROUP_ALLOW, &ret->cgroup_allow, &cfg->n_cgroup_allow, f, error,
                                error_size);
        if (r >= 0)
                r = map_cgroups(s, SETTING_CGROUP_DENY, &ret->cgroup_deny, &cfg->n_cgroup_deny, f, error,
                                error_size);
        if (r < 0) {
                if (error_size > 0 && error[0] == 0)
                        snprintf(error, error_size, "Failed to map the sensor settings: %s", strerror(-r));
                return r;
        }
        cfg->pid_allow = ret->pid_allow;
        cfg->pid_deny = ret->pid_deny;
        cfg->cgroup_allow = ret->cgroup_allow;
        cfg->cgroup_deny = ret->cgroup_deny;

        if (fclose(TAKE_PTR(f)) != 0 || !ret->record) {
                snprintf(error, error_size, "Failed to record the sensor settings: out of memory");
                return -ENOMEM;
        }
        cfg->settings_record = ret->record;
        return 0;
}

/* ---- comparing records ------------------------------------------------------------------------------ */

typedef struct RecordLine {
        const char *key, *value;
        int key_len, value_len;
} RecordLine;

/* Reads the "KEY = VALUE" line at *p and moves *p past it; false at the end. Other lines are skipped. */
static bool record_next(const char **p, RecordLine *ret)
{
        while (*p && **p) {
                const char *line = *p, *eol = strchrnul(line, '\n'), *eq = strstr(line, " = ");

                *p = *eol ? eol + 1 : eol;
                if (eq && eq < eol) {
                        *ret = (RecordLine){line, eq + 3, (int)(eq - line), (int)(eol - eq - 3)};
                        return true;
                }
        }
        return false;
}

static bool record_find(const char *record, const RecordLine *want, RecordLine *ret)
{
        while (record_next(&record, ret))
                if (ret->key_len == want->key_len && memcmp(ret->key, want->key, (size_t)want->key_len) == 0)
                        return true;
        return false;
}

int sensors_settings_record_diff(const char *pinned, const char *own, char *buf, size_t size)
{
        size_t used = 0;
        RecordLine mine, theirs;
        int n = 0;

        if (size > 0)
                buf[0] = 0;
        while (record_next(&own, &mine)) {
                bool found = record_find(pinned, &mine, &theirs);
                const char *value = found ? theirs.value : "(not recorded)";
                int value_len = found ? theirs.value_len : (int)strlen(value), w;

                if (value_len == mine.value_len && memcmp(value, mine.value, (size_t)value_len) == 0)
                        continue;
                w = snprintf(buf + used, size - used, "%s%.*s: pinned %.*s, here %.*s", n > 0 ? "; " : "",
                             mine.key_len, mine.key, value_len, value, mine.value_len, mine.value);
                if (w > 0 && size > 0)
                        used = used + (size_t)w < size ? used + (size_t)w : size - 1;
                n++;
        }
        return n;
}
