/* The heartbeats: every heartbeat interval the agent tells the backend it is alive (POST
 * /agent/heartbeat, when enrolled, whatever the output), writes a status record into a local event
 * stream so a reader of the stream sees the agent alive and any loss, and refreshes STATUS= for
 * systemd. All three read one snapshot (agent-status.h). */

#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "daemon/agent-status.h"
#include "daemon/manager.h"
#include "daemon/notify.h"
#include "net/api-client.h"
#include "sensors/sensors.h"
#include "util/log.h"

static void on_api_heartbeat_done(int r, long status, const char *body, size_t body_size,
                                  const char *error_text, void *userdata)
{
        Manager *m = userdata;

        m->api_heartbeat_in_flight = false;
        if (r < 0)
                log_warning("Heartbeat to the API failed: %s", error_text ?: strerror(-r));
        else
                log_debug("Heartbeat accepted (HTTP %ld).", status);
}

void manager_send_api_heartbeat(Manager *m)
{
        json_object *o;
        AgentStatus st;
        int r;

        if (!m->api || m->api_heartbeat_in_flight)
                return;
        manager_get_status(m, &st);
        r = agent_status_api_heartbeat(&st, &o);
        if (r < 0)
                return (void)log_oom();
        r = api_client_heartbeat(m->api, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                                 on_api_heartbeat_done, m);
        json_object_put(o);
        if (r < 0)
                log_warning_errno(r, "Failed to send a heartbeat, will retry at the next tick: %m");
        else
                m->api_heartbeat_in_flight = true;
}

void manager_update_status(Manager *m)
{
        SensorsStats stats = {};

        if (!m->config->profile.sd_notify)
                return;
        manager_read_event_stats(m, &stats);
        (void)notify_status(true, "%s; %s; %llu events, %llu lost in the ring buffer; output %s%s%s",
                            m->identity ? "enrolled" : "not enrolled (run 'linuxguard enroll')",
                            m->degraded_reason[0] ? "degraded" : "sensors attached",
                            (unsigned long long)stats.events, (unsigned long long)stats.ring_drops,
                            sink_describe(m->sink), m->degraded_reason[0] ? "; " : "", m->degraded_reason);
}

/* The record goes to the sink, which writes it into a local stream and ignores it otherwise. */
static int write_heartbeat(Manager *m)
{
        json_object *o;
        AgentStatus st;
        const char *line;
        int r;

        manager_get_status(m, &st);
        r = agent_status_heartbeat_record(&st, now(CLOCK_REALTIME), ++m->heartbeat_sequence, &o);
        if (r < 0)
                return r;
        line = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        r = sink_write_status(m->sink, line, strlen(line));
        json_object_put(o);
        return r;
}

static int on_heartbeat(sd_event_source *s, uint64_t usec, void *userdata)
{
        Manager *m = userdata;
        int r;

        manager_send_api_heartbeat(m);
        r = write_heartbeat(m);
        if (r < 0)
                log_warning_errno(r, "Failed to write heartbeat to %s, ignoring: %m",
                                  sink_describe(m->sink));
        manager_update_status(m);
        r = sd_event_source_set_time(s, usec + m->heartbeat_interval_usec);
        if (r < 0)
                return log_error_errno(r, "Failed to rearm heartbeat timer: %m");
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

int manager_start_heartbeat(Manager *m)
{
        int r;

        r = sd_event_add_time_relative(m->event, &m->heartbeat_source, CLOCK_MONOTONIC,
                                       m->heartbeat_interval_usec, USEC_PER_SEC / 10, on_heartbeat, m);
        if (r < 0)
                return r;
        return sd_event_source_set_description(m->heartbeat_source, "heartbeat-timer");
}
