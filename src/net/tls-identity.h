#pragma once
/* The agent's mTLS identity in memory: ECDSA P-256 key, CSR, issued certificate and CA chain. */

#include <curl/curl.h>

#include "util/macro.h"
#include "util/time-util.h"

typedef struct TlsIdentity TlsIdentity;

/* A fresh key and a PKCS#10 CSR with subject CN=workload_id, signed with SHA-256. */
int tls_identity_generate(TlsIdentity **ret, const char *workload_id);
/* An identity from PEM strings (e.g. the TLS cache). The strings are copied; nothing touches files. */
int tls_identity_load(TlsIdentity **ret, const char *key_pem, const char *cert_pem,
                      const char *ca_chain_pem);
/* Attaches the certificate issued for this key and the CA chain, and seals them (and the key) into
 * memfds for libcurl. Parses the certificate; -EBADMSG if it or the chain does not parse. */
int tls_identity_set_certificate(TlsIdentity *id, const char *cert_pem, const char *ca_chain_pem);
/* Wipes every copy of the key and closes the memfds. Accepts NULL, returns NULL. */
TlsIdentity *tls_identity_free(TlsIdentity *id);
DEFINE_TRIVIAL_CLEANUP_FUNC(TlsIdentity *, tls_identity_free);

/* Borrowed views; valid while the identity lives. The key PEM lives in locked, wiped memory: callers
 * that persist it (the TLS cache) write it straight from here instead of copying it. NULL if unset. */
const char *tls_identity_get_csr(const TlsIdentity *id);
const char *tls_identity_get_key_pem(const TlsIdentity *id);
const char *tls_identity_get_cert_pem(const TlsIdentity *id);
const char *tls_identity_get_ca_chain_pem(const TlsIdentity *id);
/* The certificate's notAfter (CLOCK_REALTIME usec), USEC_INFINITY before a certificate is set. */
usec_t tls_identity_get_not_after(const TlsIdentity *id);

/* Whether the identity is usable at `now` (CLOCK_REALTIME usec):
 *   -ENODATA      no certificate attached yet
 *   -EBADMSG      key, certificate or CA chain does not parse
 *   -ENOKEY       the certificate is not for this key
 *   -ETIME        the certificate (or a CA) is not valid yet
 *   -EKEYEXPIRED  the certificate (or a CA) has expired
 *   -EKEYREJECTED the certificate does not chain to the CA chain
 * The reason is logged at debug level. */
int tls_identity_verify(const TlsIdentity *id, usec_t now);
/* Static text for the errors above. */
const char *tls_identity_verify_strerror(int r);

/* Points CURLOPT_SSLCERT/SSLKEY at the sealed memfds (/proc/self/fd/N). The identity must outlive
 * every connection made with it. -ENODATA without a certificate. */
int tls_identity_apply(const TlsIdentity *id, CURL *c);
/* For tests: the memfds holding the certificate and the key, -EBADF before a certificate is set. */
int tls_identity_get_cert_fd(const TlsIdentity *id);
int tls_identity_get_key_fd(const TlsIdentity *id);
