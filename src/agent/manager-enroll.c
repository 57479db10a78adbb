/* Enrolment inside the manager (ephemeral mode with a token).
 *
 * The enrolment runs on the loop like everything else; the sensors are already producing events while
 * it retries. Its result decides the process's fate: a refusal or giving up ends the agent with a status
 * of its own, success installs the in-memory identity and starts heartbeats over mTLS. */

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>

#include "api-client.h"
#include "config.h"
#include "enroll.h"
#include "exit-status.h"
#include "log.h"
#include "manager.h"
#include "sensors.h"

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
        SensorsStats stats = {};
        int r;

        if (!m->api || m->api_heartbeat_in_flight)
                return;
        if (m->sensors)
                (void)sensors_read_stats(m->sensors, &stats);

        o = json_object_new_object();
        if (!o)
                return (void)log_oom();
        json_object_object_add(o, "agentId", json_object_new_string(m->agent_id));
        json_object_object_add(o, "agentVersion", json_object_new_string(PACKAGE_VERSION));
        json_object_object_add(o, "mode",
                               json_object_new_string(agent_mode_to_string(m->config->profile.mode)));
        json_object_object_add(
                o, "uptimeSeconds",
                json_object_new_int64((int64_t)((now(CLOCK_MONOTONIC) - m->start_usec) / USEC_PER_SEC)));
        json_object_object_add(o, "degraded",
                               m->degraded_reason[0] ? json_object_new_string(m->degraded_reason) : NULL);
        json_object_object_add(o, "eventsSeen", json_object_new_int64((int64_t)stats.events));
        json_object_object_add(o, "ringDrops", json_object_new_int64((int64_t)stats.ring_drops));

        r = api_client_heartbeat(m->api, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                                 on_api_heartbeat_done, m);
        json_object_put(o);
        if (r < 0)
                log_warning_errno(r, "Failed to send a heartbeat, will retry at the next tick: %m");
        else
                m->api_heartbeat_in_flight = true;
}

static void on_enrolled(int r, TlsIdentity *identity, const char *error_text, void *userdata)
{
        Manager *m = userdata;
        const Settings *s = &m->config->settings;
        const char *agent_id = m->enroll ? enroll_get_agent_id(m->enroll) : NULL;

        snprintf(m->agent_id, sizeof(m->agent_id), "%s", strempty(agent_id));
        m->enroll = enroll_free(m->enroll);

        if (r < 0) {
                log_error("Enrolment failed: %s", error_text ?: strerror(-r));
                (void)sd_event_exit(m->event, r == -ETIMEDOUT ? EXIT_ENROLL_GAVE_UP : EXIT_ENROLL_REFUSED);
                return;
        }

        m->identity = identity;
        r = api_client_new(&m->api, m->event, settings_str(s, SETTING_API_URL),
                           settings_str(s, SETTING_CA_FILE));
        if (r >= 0)
                r = api_client_set_identity(m->api, m->identity);
        if (r < 0) {
                log_error_errno(r, "Failed to set up the mTLS client: %m");
                (void)sd_event_exit(m->event, EXIT_RUNTIME);
                return;
        }

        log_info("Enrolled as agent %s, certificate valid for %llu s; identity kept in memory only.",
                 m->agent_id,
                 (unsigned long long)((tls_identity_get_not_after(m->identity) - now(CLOCK_REALTIME)) /
                                      USEC_PER_SEC));
        manager_send_api_heartbeat(m);
}

int manager_start_enrolment(Manager *m)
{
        const Settings *s = &m->config->settings;
        EnrollParams p = {
                .api_url = settings_str(s, SETTING_API_URL),
                .ca_file = settings_str(s, SETTING_CA_FILE),
                .tenant_id = settings_str(s, SETTING_TENANT_ID),
                .token = settings_str(s, SETTING_ENROLL_TOKEN),
                .workload_id = m->config->workload_id,
                .hostname = m->hostname,
                .mode = agent_mode_to_string(m->config->profile.mode),
                .agent_version = PACKAGE_VERSION,
                .give_up_usec = settings_uint(s, SETTING_ENROLL_TIMEOUT) * USEC_PER_SEC,
        };
        const char *why = enroll_params_check(&p);

        if (why) {
                log_error("%s", why);
                return -EINVAL;
        }
        log_info("Enrolling into tenant %s at %s as workload %s.", p.tenant_id, p.api_url, p.workload_id);
        return enroll_start(&m->enroll, m->event, &p, on_enrolled, m);
}

void manager_stop_enrolment(Manager *m)
{
        m->enroll = enroll_free(m->enroll);
        m->api = api_client_free(m->api);
        /* Wipes the key pages and closes the memfds libcurl read them from. */
        m->identity = tls_identity_free(m->identity);
}
