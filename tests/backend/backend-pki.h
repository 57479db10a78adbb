#pragma once
/* The backend's PKI: a self-made CA, the TLS server certificate, CSR validation and client certificates. */

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "util/macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(gnutls_x509_crt_t, gnutls_x509_crt_deinit);
DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(gnutls_x509_crq_t, gnutls_x509_crq_deinit);
DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(gnutls_x509_privkey_t, gnutls_x509_privkey_deinit);
DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(gnutls_pubkey_t, gnutls_pubkey_deinit);

#define RFC3339_SIZE 21 /* "2025-01-31T12:00:00Z" */

typedef struct Pki {
        gnutls_x509_crt_t ca_crt;
        gnutls_x509_privkey_t ca_key;
        char *ca_pem;         /* the caChain an enrolled agent receives */
        char *server_crt_pem; /* what the TLS listener presents */
        char *server_key_pem;
} Pki;

/* What goes into a client certificate besides its public key. */
typedef struct ClientCertSpec {
        const char *agent_id; /* subject CN */
        const char *tenant;   /* subject O and SAN URI */
        const char *workload; /* SAN URI */
        time_t not_before;
        time_t not_after;
} ClientCertSpec;

/* Loads DIR/{ca,server}.{crt,key}, creating whatever is missing. With `other`, the same for a second,
 * unrelated CA (DIR/other-{ca,server}.*) that exists only to play an impostor in tests. */
int pki_load(const char *dir, bool other, Pki **ret);
/* A fresh server certificate signed by `pki`'s CA, valid in [not_before, not_after], for `name` (and
 * 127.0.0.1 when that is "localhost"): the expired and wrong-name certificates of the fault modes. */
int pki_issue_server(const Pki *pki, time_t not_before, time_t not_after, const char *name,
                     char **ret_crt_pem, char **ret_key_pem);
Pki *pki_free(Pki *pki);
DEFINE_TRIVIAL_CLEANUP_FUNC(Pki *, pki_free);

/* Parses and vets a PEM PKCS#10 request: self-signature, EC P-256/P-384 or RSA >= 2048. On -EINVAL,
 * `ret_problem` names what is wrong in words fit for an HTTP 400 answer. */
int csr_parse(const char *pem, gnutls_x509_crq_t *ret, char **ret_problem);

/* Signs the request's public key into a client-auth certificate; returns it as PEM. */
int pki_sign_client(const Pki *pki, gnutls_x509_crq_t crq, const ClientCertSpec *spec, char **ret_pem);
/* Test helper: generates a P-256 key too and returns both as PEM (the key as PKCS#8). */
int pki_issue_client(const Pki *pki, const ClientCertSpec *spec, char **ret_crt_pem, char **ret_key_pem);

int format_rfc3339(time_t t, char ret[static RFC3339_SIZE]);
