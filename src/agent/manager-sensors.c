/* The sensors inside the manager.
 *
 * Records arrive from the ring buffer in bursts; each is encoded straight into one batch buffer and the
 * batch is written with a single write(2) when the burst ends. When eBPF cannot run, the agent keeps
 * running (heartbeats, enrolment) and reports why, so an operator sees "degraded" instead of silence. */

#include <errno.h>
#include <stdio.h>

#include "config.h"
#include "log.h"
#include "manager.h"
#include "sensors.h"

static int on_sensor_event(const LgEvent *ev, void *userdata)
{
        Manager *m = userdata;
        int r = event_to_json(ev, &m->event_context, &m->event_batch);

        if (r < 0)
                m->encode_errors++;
        return r;
}

static void on_sensor_batch_end(void *userdata)
{
        Manager *m = userdata;
        int r;

        if (m->event_batch.len == 0)
                return;
        r = output_write(m->output, m->event_batch.data, m->event_batch.len);
        if (r >= 0)
                r = output_flush(m->output);
        if (r < 0)
                log_warning_errno(r, "Failed to write events to %s, dropping this batch: %m",
                                  output_describe(m->output));
        strbuf_reset(&m->event_batch);
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

int manager_start_sensors(Manager *m)
{
        const Settings *s = &m->config->settings;
        SensorsConfig cfg;
        int r;

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

        r = sensors_new(&m->sensors, &cfg);
        if (r < 0)
                return r;
        r = sensors_load_and_attach(m->sensors);
        if (r < 0) {
                snprintf(m->degraded_reason, sizeof(m->degraded_reason), "eBPF sensors unavailable (%s): %s",
                         strerror(-r), degraded_hint(r));
                log_warning("Running degraded: %s.", m->degraded_reason);
                m->sensors = sensors_free(m->sensors);
                return 0;
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
        /* Whatever the kernel already queued still reaches the output. */
        if (m->sensors && m->output) {
                (void)sensors_drain(m->sensors);
                on_sensor_batch_end(m);
        }
        m->sensors = sensors_free(m->sensors);
        strbuf_done(&m->event_batch);
}
