#pragma once
/* One snapshot of the running agent, filled by manager_get_status() and read by every place that reports
 * it: the local and the API heartbeats (formatted below), the control API (control.c) and through it
 * `linuxguard status`, and the metrics endpoint (metrics.c). Each is a formatter of this struct, so all
 * report the same numbers under the same definitions, each with its own field names. */

#include <stdbool.h>
#include <stdint.h>

#include "ship/sink.h"
#include "util/time-util.h"

struct Manager;
struct json_object;

typedef struct AgentStatus {
        const char *mode;            /* "host" or "ephemeral" */
        const char *version;         /* PACKAGE_VERSION */
        bool enrolled;               /* an mTLS identity is in use */
        const char *agent_id;        /* "" when not enrolled */
        const char *degraded_reason; /* "" while the eBPF sensors run */
        const char *event_source;    /* "ebpf", "proc_connector" or "none" */
        uint64_t uptime_s;

        uint64_t seen;          /* events the sensors delivered */
        uint64_t pending_drops; /* syscalls the kernel could not track to their return (pending_full) */
        uint64_t decode_errors; /* records the sensors could not decode */
        uint64_t encode_errors; /* events that could not be encoded for the sink */
        bool remote;            /* the sink delivers to the API (--output api) */
        /* The sink's counters: sent is what the backend accepted, or what went to the local output.
         * dropped[DROP_RING_BUFFER] is the sensors' ring-buffer drops. */
        SinkCounters delivery;

        usec_t not_after; /* the certificate's notAfter (CLOCK_REALTIME usec), USEC_INFINITY if none */
        uint64_t renewals;
        unsigned renewal_failures;

        bool healthy;
        char health_reason[512]; /* health_evaluate(): why not, or a note; "" */
} AgentStatus;

/* Borrowed strings stay valid until the loop runs again. */
void manager_get_status(struct Manager *m, AgentStatus *ret);

/* The heartbeat record in a local stream, an OCSF Application Lifecycle event (6002, activity 99
 * "Heartbeat", see linuxguard-events(7)) whose unmapped object holds {"type":"heartbeat","sequence":N,
 * "mode","uptime_s","version","degraded","events","ring_drops","pending_drops",
 * "decode_errors","encode_errors"}. */
int agent_status_heartbeat_record(const AgentStatus *st, usec_t realtime, uint64_t sequence,
                                  struct json_object **ret);
/* The body of POST /agent/heartbeat: {"agentId","agentVersion","mode","uptimeSeconds","degraded",
 * "eventsSeen","ringDrops","pendingDrops"} and, when the sink delivers to the API, "delivery"
 * (shipper_counters_to_json()). */
int agent_status_api_heartbeat(const AgentStatus *st, struct json_object **ret);
