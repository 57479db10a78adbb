/* The agent's status snapshot, shared by the control API and the metrics endpoint: counters from the
 * sensors and the shipper, the identity, and the health verdict (health.h) computed from them. */

#include "config.h"
#include "core/health.h"
#include "daemon/agent-status.h"
#include "daemon/manager.h"
#include "net/tls-identity.h"
#include "sensors/sensors.h"

static void status_counters(Manager *m, AgentStatus *st)
{
        SensorsStats stats = {};
        ShipperCounters c;

        manager_read_event_stats(m, &stats);
        st->event_source = m->sensors ? "ebpf" : m->proc_connector ? "proc_connector" : "none";
        st->seen = stats.events;
        st->dropped[DROP_RING_BUFFER] = stats.ring_drops;
        if (!m->shipper) {
                st->sent = stats.events > m->encode_errors ? stats.events - m->encode_errors : 0;
                return;
        }
        shipper_get_counters(m->shipper, &c);
        st->sent = c.sent;
        st->queued = c.queued;
        st->queue_bytes = c.queue_bytes;
        st->spooled = c.spooled;
        st->spool_bytes = c.spool_bytes;
        for (DropCause i = DROP_QUEUE_FULL; i < _DROP_CAUSE_MAX; i++)
                st->dropped[i] = c.dropped[i];
}

void manager_get_status(Manager *m, AgentStatus *st)
{
        const Settings *s = &m->config->settings;
        RenewalState renewal;
        HealthInputs health;

        *st = (AgentStatus){
                .mode = agent_mode_to_string(m->config->profile.mode),
                .version = PACKAGE_VERSION,
                .enrolled = m->identity && m->api,
                .agent_id = m->identity ? m->agent_id : "",
                .degraded_reason = m->degraded_reason,
                .uptime_s = (now(CLOCK_MONOTONIC) - m->start_usec) / USEC_PER_SEC,
                .not_after = m->identity ? tls_identity_get_not_after(m->identity) : USEC_INFINITY,
        };
        status_counters(m, st);
        manager_get_renewal_state(m, &renewal);
        st->renewals = renewal.renewals;
        st->renewal_failures = renewal.failures;

        health = (HealthInputs){
                .identity_required =
                        output_kind(m->output) == OUTPUT_API || settings_str(s, SETTING_ENROLL_TOKEN),
                .enrolled = st->enrolled,
                .enrolling = m->enroll || renewal.reenrolling,
                .not_after = st->not_after,
                .renewal_failures = renewal.failures,
                .renewal_error = renewal.last_error,
                .degraded_reason = m->degraded_reason,
        };
        st->healthy =
                health_evaluate(&health, now(CLOCK_REALTIME), st->health_reason, sizeof(st->health_reason));
}
