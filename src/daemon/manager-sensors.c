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
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "daemon/manager.h"
#include "sensors/preflight.h"
#include "sensors/proc-connector.h"
#include "sensors/sensors-settings.h"
#include "sensors/sensors.h"
#include "util/log.h"

/* Each line, in the sink's format, goes to the sink with its sequence number, for de-duplication. */
static int on_sensor_event(const LgEvent *ev, void *userdata)
{
        Manager *m = userdata;
        int r;

        strbuf_reset(&m->event_line);
        r = sink_encode_event(m->sink, ev, &m->event_context, &m->event_line);
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

/* The pinned set's filters and prefixes were fixed by `bpf load`; this agent's own sensor settings do not
 * apply to it, so a difference is worth a warning that names it. */
static void warn_pinned_settings_differ(const char *own)
{
        _cleanup_free_ char *pinned = NULL;
        char diff[2048];
        int r;

        r = sensors_pinned_settings(SENSORS_PIN_DIR, &pinned);
        if (r < 0) {
                log_warning_errno(r,
                                  "Failed to read the settings the sensors pinned in %s were loaded with, "
                                  "ignoring: %m",
                                  SENSORS_PIN_DIR);
                return;
        }
        if (sensors_settings_record_diff(pinned, own, diff, sizeof(diff)) > 0)
                log_warning("The eBPF sensors pinned in %s were loaded with other sensor settings than this "
                            "agent's: %s. The pinned ones apply; 'linuxguard bpf unload && linuxguard bpf "
                            "load' loads these.",
                            SENSORS_PIN_DIR, diff);
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
                if (cfg->settings_record)
                        warn_pinned_settings_differ(cfg->settings_record);
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

        preflight_run(/* tracefs_automount= */ false, &report); /* tried already, if it may */
        memcpy(m->degraded_reason, prefix, sizeof(prefix));
        if (preflight_degraded_reason(&report, m->degraded_reason + sizeof(prefix) - 1,
                                      sizeof(m->degraded_reason) - (sizeof(prefix) - 1)) > 0)
                return;
        snprintf(m->degraded_reason, sizeof(m->degraded_reason), "eBPF sensors unavailable (%s): %s",
                 strerror(-error), degraded_hint(error));
}

/* The tracepoints are found through tracefs; a host without it mounted (no systemd to mount it) would
 * otherwise attach nothing. A container's mounts are its runtime's business. */
static void mount_tracefs(Manager *m)
{
        int r;

        if (!m->config->profile.mount_tracefs)
                return;
        r = preflight_mount_tracefs();
        if (r > 0)
                log_info("Mounted tracefs on %s: it was not mounted, and the sensors' tracepoints are "
                         "found there.",
                         PREFLIGHT_TRACEFS_PATH);
        else if (r < 0)
                log_warning_errno(r,
                                  "Failed to mount tracefs on %s (%m); the tracepoints cannot attach "
                                  "without it: mount -t tracefs tracefs %s",
                                  PREFLIGHT_TRACEFS_PATH, PREFLIGHT_TRACEFS_PATH);
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

int manager_start_sensors(Manager *m)
{
        const Settings *s = &m->config->settings;
        _cleanup_(sensors_settings_done) SensorsSettings settings = {};
        SensorsConfig cfg;
        char error[1024];
        int r;

        r = sensors_config_from_settings(s, &settings, error, sizeof(error));
        if (r < 0)
                return log_error_errno(r, "%s", error);
        cfg = settings.cfg;

        m->event_context = (EventContext){
                .boot_to_realtime_ns = sensors_boot_to_realtime_ns(),
                .hostname = m->hostname,
                .product_version = PACKAGE_VERSION,
        };

        r = sensors_new(&m->sensors, &cfg);
        if (r < 0)
                return r;
        if (!settings_bool(s, SETTING_LOADER_EMBEDDED) && open_pinned_sensors(m, &cfg))
                r = 0;
        else if (!cfg.process && !cfg.file && !cfg.network && !cfg.kernel) {
                /* Nothing to load is not a kernel problem: say whose choice it was. */
                m->sensors = sensors_free(m->sensors);
                snprintf(m->degraded_reason, sizeof(m->degraded_reason),
                         "every sensor is switched off in the config (sensors.process, sensors.file, "
                         "sensors.network and sensors.kernel are false)");
                log_warning("Running degraded: %s; set one of them to true to receive events.",
                            m->degraded_reason);
                return 0;
        } else {
                SensorsStats st = {};

                mount_tracefs(m);
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
