#pragma once
/* The host-mode enrolment on disk: certificate, key, CA chain and a small state file in the state dir. */

#include "net/tls-identity.h"
#include "util/time-util.h"

#define HOST_STORE_CERT_FILE      "agent.crt"
#define HOST_STORE_KEY_FILE       "agent.key"
#define HOST_STORE_CA_FILE        "ca.crt"
#define HOST_STORE_ENROLMENT_FILE "enrolment.json"

typedef struct HostEnrolment {
        char *agent_id;
        char *tenant_id;
        char *workload_id;
        usec_t expires_at; /* the certificate's notAfter, CLOCK_REALTIME usec */
} HostEnrolment;

void host_enrolment_done(HostEnrolment *e);

/* Writes the four files into `dir` (created 0700 if missing, tightened to 0700 if looser) as one
 * replacement: a crash at any point leaves either the old enrolment or the new one for the next load,
 * never a mix. The key is mode 0600 and is written straight from the identity's locked memory.
 * `e->expires_at` 0 means the certificate's notAfter. */
int host_store_save(const char *dir, const TlsIdentity *id, const HostEnrolment *e);

/* Reads what host_store_save() wrote, first finishing (or discarding, if it was not committed) a save
 * that a crash interrupted:
 *   1         loaded; *ret_id is the identity (not checked against the clock: the caller decides
 *             whether it needs renewing), *ret the state
 *   0         nothing stored (no directory or no state file); outputs untouched
 *   -EBADMSG  something is stored but unusable: a file missing or unparsable, the key not matching the
 *             certificate, the certificate not chaining to the CA, or the state not matching the
 *             certificate (a save interrupted half-way)
 *   -errno    I/O errors */
int host_store_load(const char *dir, TlsIdentity **ret_id, HostEnrolment *ret);

/* "2025-01-31T12:00:00Z" for a CLOCK_REALTIME usec; `buf` of at least 21 bytes. */
char *format_rfc3339(usec_t t, char *buf, size_t size);
