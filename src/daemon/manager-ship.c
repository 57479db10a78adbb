/* Event delivery inside the manager: with --output api the encoded events go to the shipper, which
 * queues them (bounded) until enrolment gives it an mTLS client, then sends them in batches. Host mode
 * spools under <state_dir>/spool; ephemeral mode (no state directory) keeps them in memory only, so at
 * shutdown it gives them a bounded moment to leave (well inside the 5 s an orchestrator allows). */

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>

#include "daemon/manager.h"
#include "sensors/sensors.h"
#include "ship/shipper.h"
#include "util/log.h"

int manager_start_shipper(Manager *m)
{
        const char *state_dir = m->config->profile.state_dir;
        const Settings *s = &m->config->settings;
        _cleanup_free_ char *spool_dir = NULL;
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
        r = shipper_new(&m->shipper, m->event, &cfg);
        if (r < 0 && spool_dir) {
                log_warning_errno(r, "Failed to open the spool in %s, keeping events in memory only: %m",
                                  spool_dir);
                cfg.spool_dir = NULL;
                r = shipper_new(&m->shipper, m->event, &cfg);
        }
        if (r < 0)
                return log_error_errno(r, "Failed to set up event delivery: %m");
        log_info("Events go to the API in batches of up to %zu events or %zu bytes, after at most %llu ms; "
                 "%s.",
                 cfg.batch_max_count, cfg.batch_max_bytes,
                 (unsigned long long)(cfg.batch_max_age / USEC_PER_MSEC),
                 cfg.spool_dir ? "spooled to disk when the backend is unreachable" : "memory only");
        if (m->api)
                shipper_set_api(m->shipper, m->api);
        return 0;
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

        /* A spool keeps what is left for the next start (shipper_free()); memory would lose it. */
        if (!m->shipper || shipper_has_spool(m->shipper))
                return 0;
        /* What the kernel queued before the signal joins the shipper's queue first. The programs are
         * being detached meanwhile: records they wrote until then may go out too. */
        if (m->sensors)
                (void)sensors_drain(m->sensors);
        r = shipper_drain(m->shipper, on_final_flush_done, m);
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

void manager_stop_shipper(Manager *m)
{
        ShipperCounters c;

        if (m->shipper && !shipper_has_spool(m->shipper)) {
                shipper_get_counters(m->shipper, &c);
                if (c.queued > 0)
                        log_warning("%" PRIu64 " undelivered events in memory are lost with the exit.",
                                    c.queued);
        }
        /* The API client must be gone first: it cancels the request in flight without calling back. */
        m->shipper = shipper_free(m->shipper);
}

int manager_add_delivery_counters(Manager *m, const SensorsStats *stats, json_object *o)
{
        ShipperCounters c;

        if (!m->shipper)
                return 0;
        shipper_get_counters(m->shipper, &c);
        c.dropped[DROP_RING_BUFFER] = stats ? stats->ring_drops : 0;
        return shipper_counters_to_json(&c, o);
}
