/* Event delivery inside the manager: one sink (ship/sink.h) takes the encoded events. "api" is the
 * shipper, which queues them (bounded) until enrolment gives it an mTLS client, then sends them in
 * batches; host mode spools under <state_dir>/spool, ephemeral mode (no state directory) keeps them in
 * memory only, so at shutdown it gives them a bounded moment to leave (well inside the 5 s an
 * orchestrator allows). Anything else is the local output. */

#include <json-c/json.h>
#include <stdio.h>

#include "daemon/manager.h"
#include "sensors/sensors.h"
#include "ship/output.h"
#include "ship/shipper.h"
#include "util/log.h"

static int start_shipper(Manager *m)
{
        const char *state_dir = m->config->profile.state_dir;
        const Settings *s = &m->config->settings;
        _cleanup_free_ char *spool_dir = NULL;
        Shipper *shipper = NULL;
        ShipperConfig cfg;
        int r;

        shipper_config_init(&cfg);
        cfg.batch_max_count = settings_uint(s, SETTING_BATCH_MAX_EVENTS);
        cfg.batch_max_bytes = settings_uint(s, SETTING_BATCH_MAX_BYTES);
        cfg.batch_max_age = settings_uint(s, SETTING_BATCH_MAX_AGE_MS) * USEC_PER_MSEC;
        cfg.queue_max_bytes = settings_uint(s, SETTING_QUEUE_MAX_BYTES);
        cfg.spool_max_bytes = settings_uint(s, SETTING_SPOOL_MAX_BYTES);
        if (state_dir) {
                if (asprintf(&spool_dir, "%s/spool", state_dir) < 0)
                        return -ENOMEM;
                cfg.spool_dir = spool_dir;
        }
        r = shipper_new(&shipper, m->event, &cfg);
        if (r < 0 && spool_dir) {
                log_warning_errno(r, "Failed to open the spool in %s, keeping events in memory only: %m",
                                  spool_dir);
                cfg.spool_dir = NULL;
                r = shipper_new(&shipper, m->event, &cfg);
        }
        if (r < 0)
                return r;
        log_info("Events go to the API in batches of up to %zu events or %zu bytes, after at most %llu ms; "
                 "%s.",
                 cfg.batch_max_count, cfg.batch_max_bytes,
                 (unsigned long long)(cfg.batch_max_age / USEC_PER_MSEC),
                 cfg.spool_dir ? "spooled to disk when the backend is unreachable" : "memory only");
        m->sink = shipper_as_sink(shipper);
        if (m->api)
                sink_set_api(m->sink, m->api);
        return 0;
}

int manager_start_sink(Manager *m)
{
        const char *spec = settings_str(&m->config->settings, SETTING_OUTPUT);

        if (streq(spec, "api"))
                return start_shipper(m);
        return output_sink_open(spec, settings_str(&m->config->settings, SETTING_OUTPUT_FORMAT), &m->sink);
}

static void on_final_flush_done(void *userdata)
{
        Manager *m = userdata;

        log_info("Delivered the events queued before the shutdown.");
        (void)sd_event_exit(m->event, m->exit_status);
}

static int on_final_flush_timeout(sd_event_source *source, uint64_t usec, void *userdata)
{
        Manager *m = userdata;

        log_warning("Delivery did not finish within %llu ms of the shutdown, exiting.",
                    (unsigned long long)(MANAGER_FINAL_FLUSH_USEC / USEC_PER_MSEC));
        return sd_event_exit(m->event, m->exit_status);
}

int manager_final_flush(Manager *m)
{
        int r;

        /* What the kernel queued before the signal reaches the sink first. The programs are being
         * detached meanwhile: records they wrote until then may go out too. */
        if (m->sensors)
                (void)sensors_drain(m->sensors);
        r = sink_drain(m->sink, on_final_flush_done, m);
        if (r <= 0)
                return 0;
        /* From now, not from the loop's cached time: the drain above may have taken a moment. */
        r = sd_event_add_time(m->event, &m->final_flush_source, CLOCK_MONOTONIC,
                              now(CLOCK_MONOTONIC) + MANAGER_FINAL_FLUSH_USEC, USEC_PER_MSEC,
                              on_final_flush_timeout, m);
        if (r >= 0)
                r = sd_event_source_set_description(m->final_flush_source, "final-flush-timeout");
        if (r < 0) {
                log_warning_errno(r, "Failed to arm the shutdown's delivery deadline, not waiting: %m");
                return 0;
        }
        log_info("Delivering the queued events before exiting (at most %llu ms).",
                 (unsigned long long)(MANAGER_FINAL_FLUSH_USEC / USEC_PER_MSEC));
        return 1;
}

void manager_stop_sink(Manager *m)
{
        /* The API client must be gone first: it cancels the request in flight without calling back. */
        m->sink = sink_free(m->sink);
}
