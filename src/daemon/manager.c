/* The manager.
 *
 * Signals, timers, the sensors' ring buffers, the control API and the HTTP transfers are all sd-event
 * sources owned here, so shutdown is one place: sd_event_exit() from a signal handler, then manager_free()
 * closes every source and wipes what must not outlive the process. */

#include "daemon/manager.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>

#include "config.h"
#include "core/exit-status.h"
#include "daemon/control.h"
#include "daemon/metrics.h"
#include "daemon/notify.h"
#include "sensors/sensors.h"
#include "util/log.h"
#include <systemd/sd-id128.h>

#define STREAM_APP_ID SD_ID128_MAKE(5d, 2e, 81, 0c, 7a, 93, 4f, 1b, 86, e4, 3c, 29, b0, 57, d1, 6a)

/* The first signal starts the shutdown, which may wait (bounded) for the last events to be delivered; a
 * second one ends it at once. */
static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        Manager *m = userdata;

        if (m->exit_status > 0) {
                log_info("Received SIG%s again, exiting now.", sigabbrev_np((int)si->ssi_signo));
                return sd_event_exit(m->event, m->exit_status);
        }
        log_info("Received SIG%s, shutting down.", sigabbrev_np((int)si->ssi_signo));
        (void)notify_stopping(m->config->profile.sd_notify);
        m->exit_status = 128 + (int)si->ssi_signo;
        /* The programs' detach takes most of a second; it runs while the last events leave. */
        sensors_detach(m->sensors);
        if (manager_final_flush(m) > 0)
                return 0;
        return sd_event_exit(m->event, m->exit_status);
}

/* Names the sequence numbers' scope in every event: a consumer de-duplicates by (stream, sequence). One
 * load of the programs is one stream, so agents reading the same pinned set share it: the id is derived
 * from the boot and the ring buffer's kernel id. Without the eBPF sensors, each agent is its own stream. */
static void set_stream_id(Manager *m)
{
        sd_id128_t app = STREAM_APP_ID, id;
        uint32_t load_id;
        int r = -ENODEV;

        if (m->sensors && sensors_load_id(m->sensors, &load_id) >= 0) {
                for (size_t i = 0; i < sizeof(load_id); i++)
                        app.bytes[12 + i] ^= (uint8_t)(load_id >> (8 * i));
                r = sd_id128_get_boot_app_specific(app, &id);
        }
        if (r < 0)
                r = sd_id128_randomize(&id);
        if (r < 0) {
                log_debug_errno(r, "Failed to make a stream id, events go without: %m");
                return;
        }
        sd_id128_to_string(id, m->stream_id);
        m->event_context.stream_id = m->stream_id;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        (void)manager_reload(userdata);
        return 0;
}

int manager_new(Manager **ret, AgentConfig *config)
{
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->config = config;
        m->start_usec = now(CLOCK_MONOTONIC);
        m->heartbeat_interval_usec =
                settings_uint(&config->settings, SETTING_HEARTBEAT_INTERVAL) * USEC_PER_SEC;
        if (gethostname(m->hostname, sizeof(m->hostname) - 1) < 0)
                snprintf(m->hostname, sizeof(m->hostname), "localhost");

        r = sd_event_default(&m->event);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(m);
        return 0;
}

static int add_signal(Manager *m, sd_event_source **s, int sig, sd_event_signal_handler_t cb,
                      const char *desc)
{
        int r = sd_event_add_signal(m->event, s, sig, cb, m);
        if (r < 0)
                return r;
        return sd_event_source_set_description(*s, desc);
}

int manager_start(Manager *m)
{
        const char *metrics_listen;
        sigset_t mask;
        int r;

        /* sd-event takes signals through a signalfd: they must be blocked first. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;

        r = add_signal(m, &m->sigterm_source, SIGTERM, on_exit_signal, "signal-sigterm");
        if (r < 0)
                return r;
        r = add_signal(m, &m->sigint_source, SIGINT, on_exit_signal, "signal-sigint");
        if (r < 0)
                return r;
        r = add_signal(m, &m->sighup_source, SIGHUP, on_sighup, "signal-sighup");
        if (r < 0)
                return r;

        r = manager_start_sink(m);
        if (r < 0)
                return r;

        r = manager_start_sensors(m);
        if (r < 0)
                return r;
        set_stream_id(m);

        r = manager_start_heartbeat(m);
        if (r < 0)
                return r;

        r = control_start(&m->control, m);
        if (r < 0)
                return r;
        metrics_listen = settings_str(&m->config->settings, SETTING_METRICS_LISTEN);
        if (metrics_listen) {
                r = metrics_start(&m->metrics, m, metrics_listen);
                if (r < 0)
                        log_error_errno(r, "Failed to serve metrics on %s, running without them: %m",
                                        metrics_listen);
        }

        return 0;
}

int manager_run(Manager *m)
{
        int r;

        r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return r;
}

Manager *manager_free(Manager *m)
{
        if (!m)
                return NULL;
        /* Nobody asks anything of a manager being torn down. */
        m->control = control_free(m->control);
        m->metrics = metrics_free(m->metrics);
        sd_event_source_disable_unref(m->final_flush_source);
        sd_event_source_disable_unref(m->heartbeat_source);
        sd_event_source_disable_unref(m->sighup_source);
        sd_event_source_disable_unref(m->sigint_source);
        sd_event_source_disable_unref(m->sigterm_source);
        /* Sensors first: their last records still reach the sink; the API client goes before the sink,
         * so no answer can reach a freed shipper, which then spools what is left (host mode). */
        manager_stop_sensors(m);
        manager_stop_enrolment(m);
        manager_stop_sink(m);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}
