/* The sensors inside the manager.
 *
 * Records arrive from the ring buffer in bursts; each is encoded and handed to the sink, and the sink is
 * told when the burst ends (the local output then writes it with a single write(2)). When eBPF cannot run,
 * the agent keeps running (heartbeats, enrolment) and reports why, so an operator sees "degraded" instead of
 * silence.
 *
 * Loaders: loader_embedded=true loads the programs in-process. Otherwise the agent reads the set that
 * `linuxguard bpf load` pinned, if this build pinned it; when none is pinned, or one from another build
 * is (refused: its layout may differ), it says so and falls back to the embedded loader, so a host
 * without a pinned set still sees events. */

#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "config.h"
#include "daemon/manager.h"
#include "sensors/preflight.h"
#include "sensors/proc-connector.h"
#include "sensors/sensors.h"
#include "util/log.h"

/* Each line goes to the sink with its sequence number, for de-duplication. */
static int on_sensor_event(const LgEvent *ev, void *userdata)
{
        Manager *m = userdata;
        int r;

        strbuf_reset(&m->event_line);
        r = event_to_json(ev, &m->event_context, &m->event_line);
        if (r < 0) {
                m->encode_errors++;
                return r;
        }
        return sink_submit(m->sink, ev->hdr.seq, m->event_line.data, m->event_line.len);
}

static void on_sensor_batch_end(void *userdata)
{
        Manager *m = userdata;

        sink_batch_end(m->sink);
}

static const char *degraded_hint(int error)
{
        switch (-error) {
        case EPERM:
        case EACCES:
                return "bpf() was denied: run as root, or grant CAP_BPF, CAP_PERFMON and "
                       "CAP_DAC_READ_SEARCH "
                       "(and allow bpf and perf_event_open in seccomp)";
        case ENOENT:
                return "a tracepoint or BTF is missing: mount tracefs on /sys/kernel/tracing and use a "
                       "kernel "
                       "with CONFIG_DEBUG_INFO_BTF";
        case ENOSYS:
        case EOPNOTSUPP:
                return "this kernel does not support the eBPF features linuxguard needs";
        default:
                return "see the debug log (--log-level=debug) for the failing step";
        }
}

/* true when the pinned set is in use (`cfg` then says which sensors it has); otherwise the reason was
 * logged and `m->sensors` is untouched. */
static bool open_pinned_sensors(Manager *m, SensorsConfig *cfg)
{
        SensorsPinInfo found = {};
        char msg[512];
        int r;

        r = sensors_open_pinned(m->sensors, SENSORS_PIN_DIR, &found);
        if (r >= 0) {
                cfg->process = found.sensors & SENSORS_PIN_PROCESS;
                cfg->file = found.sensors & SENSORS_PIN_FILE;
                cfg->network = found.sensors & SENSORS_PIN_NETWORK;
                cfg->kernel = found.sensors & SENSORS_PIN_KERNEL;
                log_info("Reading the eBPF sensors pinned in %s by linuxguard %s.", SENSORS_PIN_DIR,
                         found.version);
                return true;
        }
        if (r == -ENOENT)
                log_notice("No eBPF sensors pinned in %s (load them with 'linuxguard bpf load'); using the "
                           "embedded loader.",
                           SENSORS_PIN_DIR);
        else if (r == -ESTALE) {
                sensors_pin_mismatch_message(&found, SENSORS_PIN_DIR, msg, sizeof(msg));
                log_warning("Refusing the pinned sensors: %s. Using the embedded loader meanwhile.", msg);
        } else
                log_warning_errno(r,
                                  "Failed to attach to the sensors pinned in %s (%m); using the embedded "
                                  "loader. 'linuxguard bpf unload && linuxguard bpf load' replaces them.",
                                  SENSORS_PIN_DIR);
        return false;
}

/* The reason names the first failed preflight check and its fix; when every check passes, the error. */
static void set_degraded_reason(Manager *m, int error)
{
        static const char prefix[] = "eBPF sensors unavailable: ";
        PreflightReport report;

        preflight_run(&report);
        memcpy(m->degraded_reason, prefix, sizeof(prefix));
        if (preflight_degraded_reason(&report, m->degraded_reason + sizeof(prefix) - 1,
                                      sizeof(m->degraded_reason) - (sizeof(prefix) - 1)) > 0)
                return;
        snprintf(m->degraded_reason, sizeof(m->degraded_reason), "eBPF sensors unavailable (%s): %s",
                 strerror(-error), degraded_hint(error));
}

/* Degraded mode still reports exec, exit and uid changes, through the same handlers. */
static int start_proc_connector(Manager *m)
{
        int r;

        r = proc_connector_new(&m->proc_connector, 0);
        if (r >= 0)
                r = proc_connector_open(m->proc_connector);
        if (r >= 0)
                r = proc_connector_attach_event(m->proc_connector, m->event, on_sensor_event,
                                                on_sensor_batch_end, m);
        if (r < 0) {
                m->proc_connector = proc_connector_free(m->proc_connector);
                log_warning_errno(
                        r, "The process connector is unavailable too (%m): no events until eBPF can run.");
                return 0;
        }
        log_notice("Degraded mode: exec, exit and uid changes come from the process connector.");
        return 0;
}

/* The in-kernel filters from the settings; the sensors copy them, so they live only until sensors_new(). */
typedef struct SensorFilters {
        char **prefixes;
        size_t n_prefixes;
        uint32_t *pids[2]; /* allow, deny */
        size_t n_pids[2];
        uint64_t *cgroups[2]; /* allow, deny */
        size_t n_cgroups[2];
} SensorFilters;

static void sensor_filters_done(SensorFilters *f)
{
        strv_free(f->prefixes);
        for (size_t i = 0; i < 2; i++) {
                free(f->pids[i]);
                free(f->cgroups[i]);
        }
}

static int parse_pid_list(const char *value, uint32_t **ret, size_t *ret_n)
{
        char **l = NULL;
        size_t n;
        int r;

        r = setting_list_split(value, &l, &n);
        if (r < 0)
                return r;
        *ret = calloc(n ?: 1, sizeof(uint32_t));
        if (!*ret) {
                strv_free(l);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                (*ret)[i] = (uint32_t)strtoul(l[i], NULL, 10); /* validated by the settings layer */
        *ret_n = n;
        strv_free(l);
        return 0;
}

/* Where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts. */
static const char *cgroup2_root(void)
{
        struct statfs sfs;

        if (statfs("/sys/fs/cgroup", &sfs) >= 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
                return "/sys/fs/cgroup";
        return "/sys/fs/cgroup/unified";
}

/* A cgroup v2 id is the inode number of the cgroup's directory in the cgroup2 mount. */
static int resolve_cgroup_list(const char *key, const char *value, uint64_t **ret, size_t *ret_n)
{
        char **l = NULL;
        size_t n;
        int r;

        r = setting_list_split(value, &l, &n);
        if (r < 0)
                return r;
        *ret = calloc(n ?: 1, sizeof(uint64_t));
        if (!*ret) {
                strv_free(l);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL;
                struct stat st;

                if (asprintf(&path, "%s%s", cgroup2_root(), l[i]) < 0) {
                        r = -ENOMEM;
                        break;
                }
                if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
                        r = log_error_errno(
                                errno ?: ENOTDIR,
                                "%s: cgroup %s (%s) cannot be used: %m. Paths are cgroup v2 paths "
                                "relative to /sys/fs/cgroup, e.g. /system.slice/docker.service.",
                                key, l[i], path);
                        break;
                }
                (*ret)[i] = (uint64_t)st.st_ino;
        }
        *ret_n = n;
        strv_free(l);
        return r;
}

static int sensor_filters_from_settings(const Settings *s, SensorFilters *f)
{
        static const SettingId pid_ids[2] = {SETTING_PID_ALLOW, SETTING_PID_DENY};
        static const SettingId cgroup_ids[2] = {SETTING_CGROUP_ALLOW, SETTING_CGROUP_DENY};
        int r;

        r = setting_list_split(settings_str(s, SETTING_FILE_PREFIXES), &f->prefixes, &f->n_prefixes);
        for (size_t i = 0; r >= 0 && i < 2; i++)
                r = parse_pid_list(settings_str(s, pid_ids[i]), &f->pids[i], &f->n_pids[i]);
        for (size_t i = 0; r >= 0 && i < 2; i++)
                r = resolve_cgroup_list(setting_info(cgroup_ids[i])->name, settings_str(s, cgroup_ids[i]),
                                        &f->cgroups[i], &f->n_cgroups[i]);
        return r;
}

int manager_start_sensors(Manager *m)
{
        const Settings *s = &m->config->settings;
        _cleanup_(sensor_filters_done) SensorFilters filters = {};
        SensorsConfig cfg;
        int r;

        r = sensor_filters_from_settings(s, &filters);
        if (r < 0)
                return r;

        m->event_context = (EventContext){
                .boot_to_realtime_ns = sensors_boot_to_realtime_ns(),
                .hostname = m->hostname,
                .product_version = PACKAGE_VERSION,
        };

        sensors_config_init(&cfg);
        cfg.process = settings_bool(s, SETTING_SENSOR_PROCESS);
        cfg.file = settings_bool(s, SETTING_SENSOR_FILE);
        cfg.network = settings_bool(s, SETTING_SENSOR_NETWORK);
        cfg.kernel = settings_bool(s, SETTING_SENSOR_KERNEL);
        cfg.ring_size = settings_uint(s, SETTING_RING_BUFFER_SIZE);
        cfg.file_prefixes = (const char *const *)filters.prefixes;
        cfg.n_file_prefixes = filters.n_prefixes;
        cfg.pid_allow = filters.pids[0];
        cfg.n_pid_allow = filters.n_pids[0];
        cfg.pid_deny = filters.pids[1];
        cfg.n_pid_deny = filters.n_pids[1];
        cfg.cgroup_allow = filters.cgroups[0];
        cfg.n_cgroup_allow = filters.n_cgroups[0];
        cfg.cgroup_deny = filters.cgroups[1];
        cfg.n_cgroup_deny = filters.n_cgroups[1];

        r = sensors_new(&m->sensors, &cfg);
        if (r < 0)
                return r;
        if (!settings_bool(s, SETTING_LOADER_EMBEDDED) && open_pinned_sensors(m, &cfg))
                r = 0;
        else {
                SensorsStats st = {};

                r = sensors_load_and_attach(m->sensors);
                /* Tracepoints the kernel lacks are skipped one by one; when none attached at all (tracefs
                 * not mounted, say) there is no sensor, and the agent must say so rather than run blind. */
                if (r >= 0 && sensors_read_stats(m->sensors, &st) >= 0 && st.programs_attached == 0)
                        r = -ENOENT;
        }
        if (r < 0) {
                m->sensors = sensors_free(m->sensors);
                set_degraded_reason(m, r);
                log_warning("Running degraded: %s.", m->degraded_reason);
                return settings_bool(s, SETTING_SENSOR_PROCESS) ? start_proc_connector(m) : 0;
        }
        r = sensors_attach_event(m->sensors, m->event, on_sensor_event, on_sensor_batch_end, m);
        if (r < 0)
                return r;
        log_info("Sensors attached (process=%s file=%s network=%s kernel=%s).", yes_no(cfg.process),
                 yes_no(cfg.file), yes_no(cfg.network), yes_no(cfg.kernel));
        return 0;
}

void manager_stop_sensors(Manager *m)
{
        /* Whatever the kernel already queued still reaches the sink. */
        if (m->sensors && m->sink) {
                (void)sensors_drain(m->sensors);
                on_sensor_batch_end(m);
        }
        m->sensors = sensors_free(m->sensors);
        m->proc_connector = proc_connector_free(m->proc_connector);
        strbuf_done(&m->event_line);
}

void manager_read_event_stats(Manager *m, SensorsStats *ret)
{
        ProcConnectorStats pc;

        *ret = (SensorsStats){};
        if (m->sensors) {
                (void)sensors_read_stats(m->sensors, ret);
                return;
        }
        if (!m->proc_connector)
                return;
        proc_connector_read_stats(m->proc_connector, &pc);
        ret->events = pc.events;
        ret->ring_drops = pc.overruns; /* each is one sequence gap, as a ring-buffer drop is */
        ret->last_seq = pc.last_seq;
}
