#pragma once
/* Certificate renewal inside the manager: at two thirds of the certificate's lifetime a new key and CSR go
 * to POST /agent/renew over mTLS, and the answer replaces the identity in memory without stopping delivery.
 * Failures retry with backoff; at expiry the agent enrols again when it still has a token. */

#include <stdbool.h>
#include <stdint.h>

struct Manager;

typedef struct RenewalState {
        uint64_t renewals;      /* certificates swapped in since start (renewed or re-enrolled) */
        unsigned failures;      /* consecutive failed attempts */
        const char *last_error; /* of the last failure, NULL if none; valid until the loop runs again */
        bool reenrolling;       /* the certificate expired and a new enrolment is running */
} RenewalState;

/* Arms renewal for the identity in use (m->identity); call again after any change of identity. */
int manager_start_renewal(struct Manager *m);
void manager_stop_renewal(struct Manager *m);
void manager_get_renewal_state(const struct Manager *m, RenewalState *ret);
