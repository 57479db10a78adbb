#pragma once
/* One snapshot of the running agent, read by the control API (control.c) and the metrics endpoint
 * (metrics.c), so both report the same numbers under the same definitions. */

#include <stdbool.h>
#include <stdint.h>

#include "ship/shipper.h"
#include "util/time-util.h"

struct Manager;

typedef struct AgentStatus {
        const char *mode;            /* "host" or "ephemeral" */
        const char *version;         /* PACKAGE_VERSION */
        bool enrolled;               /* an mTLS identity is in use */
        const char *agent_id;        /* "" when not enrolled */
        const char *degraded_reason; /* "" while the eBPF sensors run */
        const char *event_source;    /* "ebpf", "proc_connector" or "none" */
        uint64_t uptime_s;

        uint64_t seen;        /* events the sensors delivered */
        uint64_t sent;        /* accepted by the backend (--output api) or written to the local output */
        uint64_t queued;      /* in memory now (--output api) */
        uint64_t queue_bytes; /* bytes the memory queue holds now */
        uint64_t spooled;     /* written to the spool since start (host mode) */
        uint64_t spool_bytes; /* spool bytes not yet delivered */
        uint64_t dropped[_DROP_CAUSE_MAX];

        usec_t not_after; /* the certificate's notAfter (CLOCK_REALTIME usec), USEC_INFINITY if none */
        uint64_t renewals;
        unsigned renewal_failures;

        bool healthy;
        char health_reason[512]; /* health_evaluate(): why not, or a note; "" */
} AgentStatus;

/* Borrowed strings stay valid until the loop runs again. */
void manager_get_status(struct Manager *m, AgentStatus *ret);
