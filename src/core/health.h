#pragma once
/* The agent's health verdict as a pure function of its state and the time, for `linuxguard health`,
 * the control API's Healthy/HealthReason and the linuxguard_healthy metric. */

#include <stdbool.h>
#include <stddef.h>

#include "util/time-util.h"

typedef struct HealthInputs {
        bool identity_required; /* events go to the API, or an enrolment token was given */
        bool enrolled;          /* an mTLS identity is in use */
        bool enrolling;         /* the first enrolment (or a re-enrolment) is running */
        usec_t not_after;       /* the certificate's notAfter (CLOCK_REALTIME usec), USEC_INFINITY if none */
        unsigned renewal_failures;   /* consecutive failed renewal attempts */
        const char *renewal_error;   /* the last one's reason, or NULL */
        const char *degraded_reason; /* NULL or "" while the eBPF sensors run */
} HealthInputs;

/* Healthy: enrolled or no identity needed, and the certificate (if any) not expired at `now`. Degraded
 * sensors and failing renewals stay healthy but are noted. Writes the reason (unhealthy) or the note
 * (healthy) to `reason`, "" when there is nothing to say. Returns true when healthy. */
bool health_evaluate(const HealthInputs *in, usec_t now, char *reason, size_t reason_size);
