#pragma once
/* The agent's event loop: one Manager owns sd-event and every source the agent runs on. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "core/agent-config.h"
#include "core/event-json.h"
#include "ship/sink.h"
#include "util/macro.h"
#include "util/strbuf.h"
#include "util/time-util.h"

struct SensorsStats;
struct json_object;

typedef struct Manager {
        sd_event *event;
        sd_event_source *sigterm_source;
        sd_event_source *sigint_source;
        sd_event_source *sighup_source;
        sd_event_source *heartbeat_source;
        sd_event_source *final_flush_source; /* the shutdown's deadline for the last delivery */
        int exit_status;                     /* set by the first SIGTERM/SIGINT */

        AgentConfig *config; /* borrowed, outlives the manager */
        Sink *sink;          /* where events go: the local output, or the shipper ("api") */

        /* The eBPF sensors, and the buffer each event is encoded into on its way to the sink. */
        struct Sensors *sensors;
        struct ProcConnector *proc_connector; /* degraded mode: exec, exit and uid changes */
        StrBuf event_line;
        EventContext event_context;
        char stream_id[33]; /* metadata.correlation_uid: one per load of the programs */
        uint64_t encode_errors;
        char degraded_reason[512]; /* empty while the sensors run */

        /* Enrolment, then the in-memory identity and the mTLS API client built on it. */
        struct Enroll *enroll;
        struct TlsIdentity *identity;
        struct ApiClient *api;
        char agent_id[128];
        bool api_heartbeat_in_flight;
        bool tls_cache; /* --tls-cache: reuse and seed /run/linuxguard/tls */
        char tls_cache_tag[65];
        char hostname[256];
        usec_t start_usec;
        usec_t heartbeat_interval_usec;
        uint64_t heartbeat_sequence;

        /* control.c, metrics.c, manager-renew.c: the control API, --metrics-listen, certificate renewal. */
        struct Control *control;
        struct Metrics *metrics;
        struct Renewal *renewal;
} Manager;

int manager_new(Manager **ret, AgentConfig *config);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

int manager_start(Manager *m);

/* manager-reload.c: SIGHUP / systemctl reload: re-reads the config file, applies what can change live and
 * names what needs a restart. */
int manager_reload(Manager *m);
/* manager-heartbeat.c: the heartbeat timer: the API heartbeat, a status record in a local stream, and the
 * one-line STATUS= for systemd (host mode only), which reload refreshes too. */
int manager_start_heartbeat(Manager *m);
void manager_send_api_heartbeat(Manager *m);
void manager_update_status(Manager *m);

/* manager-sensors.c: loads the sensors; when eBPF cannot run, records why and carries on degraded. */
int manager_start_sensors(Manager *m);
void manager_stop_sensors(Manager *m);
/* Counters of whichever source runs: the eBPF sensors, or the process connector (its socket overruns
 * count as ring_drops). All zero when neither does. */
void manager_read_event_stats(Manager *m, struct SensorsStats *ret);

/* manager-enroll.c: the ephemeral identity: reuses the TLS cache when its tag matches, else enrols with the
 * token (a missing tenant is refused before any request, with the spec's text) and seeds the cache; then
 * heartbeats over mTLS. Returns 0 or a failure already logged: -EACCES when the enrolment is refused before
 * any request, -ENOKEY when --tls-cache cannot be used, any other -errno a runtime failure. A later end of
 * the enrolment exits the loop itself: -ETIMEDOUT (gave up) or a refusal. */
int manager_start_ephemeral_identity(Manager *m);
/* The exit status for each of those failures: EXIT_ENROLL_REFUSED, EXIT_ENROLL_GAVE_UP, EXIT_TLS_CACHE, or
 * EXIT_RUNTIME for any other. */
int manager_identity_exit_status(int error);
/* Host mode: the enrolment stored by 'linuxguard enroll'; without one, says how to enrol and carries on. */
int manager_start_host_identity(Manager *m);
void manager_stop_enrolment(Manager *m);

/* manager-ship.c: the sink the output setting names. Stop it after the enrolment (the API client). */
int manager_start_sink(Manager *m);
void manager_stop_sink(Manager *m);
/* Shutdown: gives what the sink holds in memory only up to MANAGER_FINAL_FLUSH_USEC to reach the backend,
 * then exits the loop with m->exit_status. Returns 0 when there is nothing to wait for (the caller exits at
 * once), 1 when the loop exits later. */
#define MANAGER_FINAL_FLUSH_USEC (2 * USEC_PER_SEC)
int manager_final_flush(Manager *m);
/* manager-renew.c: certificate renewal. At two thirds of the certificate's lifetime a new key and CSR go to
 * POST /agent/renew over mTLS, and the answer replaces the identity in memory without stopping delivery.
 * Failures retry with backoff; at expiry the agent enrols again when it still has a token. */
typedef struct RenewalState {
        uint64_t renewals;      /* certificates swapped in since start (renewed or re-enrolled) */
        unsigned failures;      /* consecutive failed attempts */
        const char *last_error; /* of the last failure, NULL if none; valid until the loop runs again */
        bool reenrolling;       /* the certificate expired and a new enrolment is running */
} RenewalState;

/* Arms renewal for the identity in use (m->identity); call again after any change of identity. */
int manager_start_renewal(Manager *m);
void manager_stop_renewal(Manager *m);
void manager_get_renewal_state(const Manager *m, RenewalState *ret);

/* Runs until a signal ends it; returns the exit status (143 for SIGTERM, 130 for SIGINT). */
int manager_run(Manager *m);
