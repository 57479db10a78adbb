/* Event delivery inside the manager: with --output api the encoded events go to the shipper, which
 * queues them (bounded) until enrolment gives it an mTLS client, then sends them in batches. Host mode
 * spools under <state_dir>/spool; ephemeral mode (no state directory) keeps them in memory only. */

#include <json-c/json.h>
#include <stdio.h>

#include "log.h"
#include "manager.h"
#include "sensors.h"
#include "shipper.h"

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

void manager_stop_shipper(Manager *m)
{
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
