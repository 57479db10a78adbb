/* The agent's status snapshot (agent-status.h), the one source of every number the agent reports:
 * counters from the sensors and the sink, the identity, and the health verdict (health.h) computed from
 * them. */

#include "config.h"
#include "core/health.h"
#include "daemon/agent-status.h"
#include "daemon/control.h"
#include "daemon/manager.h"
#include "net/tls-identity.h"
#include "sensors/sensors.h"

static void status_counters(Manager *m, AgentStatus *st)
{
        SensorsStats stats = {};

        manager_read_event_stats(m, &stats);
        st->event_source = m->sensors ? "ebpf" : m->proc_connector ? "proc_connector" : "none";
        st->seen = stats.events;
        st->pending_drops = stats.pending_overflows;
        st->decode_errors = stats.decode_errors;
        st->encode_errors = m->encode_errors;
        st->remote = sink_is_remote(m->sink);
        sink_get_counters(m->sink, &st->delivery);
        st->delivery.dropped[DROP_RING_BUFFER] = stats.ring_drops;
        st->delivery.dropped[DROP_UNTRACKED] = stats.pending_overflows;
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
                .identity_required = st->remote || settings_str(s, SETTING_ENROLL_TOKEN),
                .enrolled = st->enrolled,
                .enrolling = m->enroll || renewal.reenrolling,
                .not_after = st->not_after,
                .renewal_failures = renewal.failures,
                .renewal_error = renewal.last_error,
                .degraded_reason = m->degraded_reason,
        };
        st->healthy =
                health_evaluate(&health, now(CLOCK_REALTIME), st->health_reason, sizeof(st->health_reason));
        /* A note, not a verdict: the agent still works, but whoever answers on its address is refused. */
        if (control_conflict(m->control)) {
                size_t n = strlen(st->health_reason);

                snprintf(st->health_reason + n, sizeof(st->health_reason) - n, "%s%s", n ? "; " : "",
                         control_conflict(m->control));
        }
}
