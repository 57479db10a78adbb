/* PKI for the reference backend, all GnuTLS.
 *
 * Everything is ECDSA P-256 and kept in the state directory so that the `ca` subcommand, the server and
 * the tests agree on one trust anchor. Files are created under the state lock (two processes starting at
 * once must not mint two CAs) and written atomically. Client certificates carry the agent id as CN, the
 * tenant as O, a SAN URI urn:linuxguard:tenant:<T>:workload:<W>, the client-auth EKU and a random
 * 127-bit serial; the server certificate names localhost and 127.0.0.1. */

#include "backend-pki.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "backend-state.h"

#define CA_VALIDITY_SEC (10 * 365 * 24 * 3600L)
#define BACKDATE_SEC    60 /* tolerate small clock skew between agent and backend */
#define SERIAL_SIZE     16

static int gnutls_to_errno(int g)
{
        switch (g) {
        case GNUTLS_E_MEMORY_ERROR:
                return -ENOMEM;
        case GNUTLS_E_BASE64_DECODING_ERROR:
        case GNUTLS_E_ASN1_DER_ERROR:
        case GNUTLS_E_BASE64_UNEXPECTED_HEADER_ERROR:
                return -EBADMSG;
        default:
                return -EIO;
        }
}
#define GT(expr)                                    \
        ({                                          \
                int _g_ = (expr);                   \
                _g_ < 0 ? gnutls_to_errno(_g_) : 0; \
        })

int format_rfc3339(time_t t, char ret[static RFC3339_SIZE])
{
        struct tm tm;

        if (!gmtime_r(&t, &tm) || strftime(ret, RFC3339_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return -EINVAL;
        return 0;
}

static int datum_to_string(gnutls_datum_t *d, char **ret)
{
        char *s = strndup((const char *)d->data, d->size);

        gnutls_free(d->data);
        d->data = NULL;
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int crt_to_pem(gnutls_x509_crt_t crt, char **ret)
{
        gnutls_datum_t d = {};
        int r = GT(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d));

        return r < 0 ? r : datum_to_string(&d, ret);
}

static int key_to_pem(gnutls_x509_privkey_t key, char **ret)
{
        gnutls_datum_t d = {};
        int r = GT(gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &d));

        if (r < 0)
                return r;
        r = datum_to_string(&d, ret);
        return r;
}

static int key_generate(gnutls_x509_privkey_t *ret)
{
        _cleanup_(gnutls_x509_privkey_deinitp) gnutls_x509_privkey_t key = NULL;
        int r;

        r = GT(gnutls_x509_privkey_init(&key));
        if (r >= 0)
                r = GT(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                                    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(key);
        return 0;
}

/* Version 3, random positive serial, validity window. */
static int crt_new(time_t not_before, time_t not_after, gnutls_x509_crt_t *ret)
{
        _cleanup_(gnutls_x509_crt_deinitp) gnutls_x509_crt_t crt = NULL;
        unsigned char serial[SERIAL_SIZE];
        int r;

        if (gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)) < 0)
                return -EIO;
        serial[0] = (serial[0] & 0x7f) | 0x40; /* positive, fixed length */

        r = GT(gnutls_x509_crt_init(&crt));
        if (r >= 0)
                r = GT(gnutls_x509_crt_set_version(crt, 3));
        if (r >= 0)
                r = GT(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)));
        if (r >= 0)
                r = GT(gnutls_x509_crt_set_activation_time(crt, not_before));
        if (r >= 0)
                r = GT(gnutls_x509_crt_set_expiration_time(crt, not_after));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(crt);
        return 0;
}

static int crt_set_subject_key_id(gnutls_x509_crt_t crt)
{
        unsigned char id[64];
        size_t size = sizeof(id);
        int r;

        r = GT(gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, id, &size));
        return r < 0 ? r : GT(gnutls_x509_crt_set_subject_key_id(crt, id, size));
}

/* `issuer` NULL means self-signed with `key`. */
static int crt_sign(gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer, gnutls_x509_privkey_t key)
{
        unsigned char id[64];
        size_t size = sizeof(id);
        int r;

        r = crt_set_subject_key_id(crt);
        if (r >= 0 && issuer) {
                r = GT(gnutls_x509_crt_get_subject_key_id(issuer, id, &size, NULL));
                if (r >= 0)
                        r = GT(gnutls_x509_crt_set_authority_key_id(crt, id, size));
        }
        if (r < 0)
                return r;
        return GT(gnutls_x509_crt_sign2(crt, issuer ?: crt, key, GNUTLS_DIG_SHA256, 0));
}

static int crt_set_cn(gnutls_x509_crt_t crt, const char *cn)
{
        return GT(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen(cn)));
}

static int ca_generate(const char *cn, gnutls_x509_crt_t *ret_crt, gnutls_x509_privkey_t *ret_key)
{
        _cleanup_(gnutls_x509_privkey_deinitp) gnutls_x509_privkey_t key = NULL;
        _cleanup_(gnutls_x509_crt_deinitp) gnutls_x509_crt_t crt = NULL;
        time_t t = time(NULL);
        int r;

        r = key_generate(&key);
        if (r >= 0)
                r = crt_new(t - BACKDATE_SEC, t + CA_VALIDITY_SEC, &crt);
        if (r >= 0)
                r = GT(gnutls_x509_crt_set_key(crt, key));
        if (r >= 0)
                r = crt_set_cn(crt, cn);
        if (r >= 0)
                r = GT(gnutls_x509_crt_set_basic_constraints(crt, 1, 0));
        if (r >= 0)
                r = GT(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN));
        if (r >= 0)
                r = crt_sign(crt, NULL, key);
        if (r < 0)
                return r;
        *ret_crt = TAKE_PTR(crt);
        *ret_key = TAKE_PTR(key);
        return 0;
}

static int server_generate_for(const Pki *pki, time_t not_before, time_t not_after, const char *name,
                               char **ret_crt_pem, char **ret_key_pem)
{
        _cleanup_(gnutls_x509_privkey_deinitp) gnutls_x509_privkey_t key = NULL;
        _cleanup_(gnutls_x509_crt_deinitp) gnutls_x509_crt_t crt = NULL;
        _cleanup_free_ char *crt_pem = NULL;
        struct in_addr lo = {htonl(INADDR_LOOPBACK)};
        int r;

        bool local = streq(name, "localhost");

        r = key_generate(&key);
        if (r >= 0)
                r = crt_new(not_before, not_after, &crt);
        if (r >= 0)
                r = GT(gnutls_x509_crt_set_key(crt, key));
        if (r >= 0)
                r = crt_set_cn(crt, name);
        if (r >= 0)
                r = GT(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, name, strlen(name),
                                                            GNUTLS_FSAN_APPEND));
        if (r >= 0 && local)
                r = GT(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, &lo, sizeof(lo),
                                                            GNUTLS_FSAN_APPEND));
        if (r >= 0)
                r = GT(gnutls_x509_crt_set_basic_constraints(crt, 0, -1));
        if (r >= 0)
                r = GT(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE));
        if (r >= 0)
                r = GT(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0));
        if (r >= 0)
                r = crt_sign(crt, pki->ca_crt, pki->ca_key);
        if (r >= 0)
                r = crt_to_pem(crt, &crt_pem);
        if (r >= 0)
                r = key_to_pem(key, ret_key_pem);
        if (r < 0)
                return r;
        *ret_crt_pem = TAKE_PTR(crt_pem);
        return 0;
}

static int server_generate(const Pki *pki, char **ret_crt_pem, char **ret_key_pem)
{
        time_t t = time(NULL);

        return server_generate_for(pki, t - BACKDATE_SEC, t + CA_VALIDITY_SEC, "localhost", ret_crt_pem,
                                   ret_key_pem);
}

int pki_issue_server(const Pki *pki, time_t not_before, time_t not_after, const char *name,
                     char **ret_crt_pem, char **ret_key_pem)
{
        return server_generate_for(pki, not_before, not_after, name, ret_crt_pem, ret_key_pem);
}

static int load_ca(const char *crt_path, const char *key_path, Pki *pki)
{
        _cleanup_secret_ char *key_pem = NULL;
        gnutls_datum_t d;
        int r;

        r = read_full_file(crt_path, &pki->ca_pem, NULL);
        if (r < 0)
                return r;
        r = read_full_file(key_path, &key_pem, NULL);
        if (r < 0)
                return r;

        r = GT(gnutls_x509_crt_init(&pki->ca_crt));
        if (r < 0)
                return r;
        d = (gnutls_datum_t){(unsigned char *)pki->ca_pem, (unsigned)strlen(pki->ca_pem)};
        r = GT(gnutls_x509_crt_import(pki->ca_crt, &d, GNUTLS_X509_FMT_PEM));
        if (r < 0)
                return r;
        r = GT(gnutls_x509_privkey_init(&pki->ca_key));
        if (r < 0)
                return r;
        d = (gnutls_datum_t){(unsigned char *)key_pem, (unsigned)strlen(key_pem)};
        return GT(gnutls_x509_privkey_import2(pki->ca_key, &d, GNUTLS_X509_FMT_PEM, NULL, 0));
}

static int create_ca(const char *crt_path, const char *key_path, const char *cn)
{
        _cleanup_(gnutls_x509_privkey_deinitp) gnutls_x509_privkey_t key = NULL;
        _cleanup_(gnutls_x509_crt_deinitp) gnutls_x509_crt_t crt = NULL;
        _cleanup_secret_ char *key_pem = NULL;
        _cleanup_free_ char *crt_pem = NULL;
        int r;

        r = ca_generate(cn, &crt, &key);
        if (r >= 0)
                r = key_to_pem(key, &key_pem);
        if (r >= 0)
                r = crt_to_pem(crt, &crt_pem);
        if (r >= 0)
                r = write_file_atomic(key_path, key_pem, strlen(key_pem), 0600);
        if (r >= 0)
                r = write_file_atomic(crt_path, crt_pem, strlen(crt_pem), 0644);
        return r;
}

static int ensure_server(const char *crt_path, const char *key_path, Pki *pki)
{
        int r;

        r = read_full_file(crt_path, &pki->server_crt_pem, NULL);
        if (r >= 0)
                r = read_full_file(key_path, &pki->server_key_pem, NULL);
        if (r != -ENOENT)
                return r;

        pki->server_crt_pem = mfree(pki->server_crt_pem);
        r = server_generate(pki, &pki->server_crt_pem, &pki->server_key_pem);
        if (r >= 0)
                r = write_file_atomic(key_path, pki->server_key_pem, strlen(pki->server_key_pem), 0600);
        if (r >= 0)
                r = write_file_atomic(crt_path, pki->server_crt_pem, strlen(pki->server_crt_pem), 0644);
        return r;
}

static int pki_load_locked(const char *dir, const char *prefix, Pki *pki)
{
        _cleanup_free_ char *ca_crt = NULL, *ca_key = NULL, *srv_crt = NULL, *srv_key = NULL;
        int r;

        if (asprintf(&ca_crt, "%s/%sca.crt", dir, prefix) < 0 ||
            asprintf(&ca_key, "%s/%sca.key", dir, prefix) < 0 ||
            asprintf(&srv_crt, "%s/%sserver.crt", dir, prefix) < 0 ||
            asprintf(&srv_key, "%s/%sserver.key", dir, prefix) < 0)
                return -ENOMEM;

        if (access(ca_crt, F_OK) < 0 || access(ca_key, F_OK) < 0) {
                r = create_ca(ca_crt, ca_key,
                              *prefix ? "linuxguard impostor CA (tests only)"
                                      : "linuxguard reference backend CA");
                if (r < 0)
                        return r;
                (void)unlink(srv_crt); /* signed by a CA that is gone */
                (void)unlink(srv_key);
        }
        r = load_ca(ca_crt, ca_key, pki);
        if (r < 0)
                return r;
        return ensure_server(srv_crt, srv_key, pki);
}

int pki_load(const char *dir, bool other, Pki **ret)
{
        _cleanup_(pki_freep) Pki *pki = NULL;
        _cleanup_close_ int lock = -EBADF;
        int r;

        pki = calloc(1, sizeof(Pki));
        if (!pki)
                return -ENOMEM;
        lock = state_lock(dir);
        if (lock < 0)
                return lock;
        r = pki_load_locked(dir, other ? "other-" : "", pki);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(pki);
        return 0;
}

Pki *pki_free(Pki *pki)
{
        if (!pki)
                return NULL;
        if (pki->ca_crt)
                gnutls_x509_crt_deinit(pki->ca_crt);
        if (pki->ca_key)
                gnutls_x509_privkey_deinit(pki->ca_key);
        free(pki->ca_pem);
        free(pki->server_crt_pem);
        erase_and_free(pki->server_key_pem);
        free(pki);
        return NULL;
}

static int csr_check_key(gnutls_x509_crq_t crq, char **ret_problem)
{
        _cleanup_(gnutls_pubkey_deinitp) gnutls_pubkey_t pub = NULL;
        gnutls_ecc_curve_t curve;
        unsigned bits = 0;
        int algo, r;

        algo = gnutls_x509_crq_get_pk_algorithm(crq, &bits);
        if (algo == GNUTLS_PK_RSA) {
                if (bits >= 2048)
                        return 0;
                r = asprintf(ret_problem, "csr: RSA key of %u bits is too weak (minimum 2048)", bits);
                return r < 0 ? -ENOMEM : -EINVAL;
        }
        if (algo == GNUTLS_PK_ECDSA) {
                r = GT(gnutls_pubkey_init(&pub));
                if (r >= 0)
                        r = GT(gnutls_pubkey_import_x509_crq(pub, crq, 0));
                if (r >= 0)
                        r = GT(gnutls_pubkey_export_ecc_raw2(pub, &curve, NULL, NULL, 0));
                if (r < 0)
                        return r;
                if (curve == GNUTLS_ECC_CURVE_SECP256R1 || curve == GNUTLS_ECC_CURVE_SECP384R1)
                        return 0;
                r = asprintf(ret_problem, "csr: EC curve %s not accepted (need P-256 or P-384)",
                             strna(gnutls_ecc_curve_get_name(curve)));
                return r < 0 ? -ENOMEM : -EINVAL;
        }
        r = asprintf(ret_problem, "csr: key algorithm %s not accepted (need EC P-256/P-384 or RSA >= 2048)",
                     algo < 0 ? "unknown"
                              : strna(gnutls_pk_algorithm_get_name((gnutls_pk_algorithm_t)algo)));
        return r < 0 ? -ENOMEM : -EINVAL;
}

static int problem(char **ret_problem, const char *text)
{
        *ret_problem = strdup(text);
        return *ret_problem ? -EINVAL : -ENOMEM;
}

int csr_parse(const char *pem, gnutls_x509_crq_t *ret, char **ret_problem)
{
        _cleanup_(gnutls_x509_crq_deinitp) gnutls_x509_crq_t crq = NULL;
        gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
        int r;

        *ret_problem = NULL;
        r = GT(gnutls_x509_crq_init(&crq));
        if (r < 0)
                return r;
        if (gnutls_x509_crq_import(crq, &d, GNUTLS_X509_FMT_PEM) < 0)
                return problem(ret_problem, "csr: not a PEM-encoded PKCS#10 certificate request");
        if (gnutls_x509_crq_verify(crq, 0) < 0)
                return problem(ret_problem, "csr: self-signature does not verify");
        r = csr_check_key(crq, ret_problem);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(crq);
        return 0;
}

static int client_fill(gnutls_x509_crt_t crt, const ClientCertSpec *spec)
{
        _cleanup_free_ char *uri = NULL;
        int r;

        if (asprintf(&uri, "urn:linuxguard:tenant:%s:workload:%s", spec->tenant, spec->workload) < 0)
                return -ENOMEM;

        r = crt_set_cn(crt, spec->agent_id);
        if (r >= 0)
                r = GT(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, spec->tenant,
                                                     strlen(spec->tenant)));
        if (r >= 0)
                r = GT(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_URI, uri, strlen(uri),
                                                            GNUTLS_FSAN_APPEND));
        if (r >= 0)
                r = GT(gnutls_x509_crt_set_basic_constraints(crt, 0, -1));
        if (r >= 0)
                r = GT(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
                                                                  GNUTLS_KEY_KEY_ENCIPHERMENT));
        if (r >= 0)
                r = GT(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_CLIENT, 0));
        return r;
}

static int sign_pubkey(const Pki *pki, gnutls_pubkey_t pub, const ClientCertSpec *spec, char **ret_pem)
{
        _cleanup_(gnutls_x509_crt_deinitp) gnutls_x509_crt_t crt = NULL;
        int r;

        r = crt_new(spec->not_before, spec->not_after, &crt);
        if (r >= 0)
                r = GT(gnutls_x509_crt_set_pubkey(crt, pub));
        if (r >= 0)
                r = client_fill(crt, spec);
        if (r >= 0)
                r = crt_sign(crt, pki->ca_crt, pki->ca_key);
        if (r < 0)
                return r;
        return crt_to_pem(crt, ret_pem);
}

int pki_sign_client(const Pki *pki, gnutls_x509_crq_t crq, const ClientCertSpec *spec, char **ret_pem)
{
        _cleanup_(gnutls_pubkey_deinitp) gnutls_pubkey_t pub = NULL;
        int r;

        r = GT(gnutls_pubkey_init(&pub));
        if (r >= 0)
                r = GT(gnutls_pubkey_import_x509_crq(pub, crq, 0));
        if (r < 0)
                return r;
        return sign_pubkey(pki, pub, spec, ret_pem);
}

int pki_issue_client(const Pki *pki, const ClientCertSpec *spec, char **ret_crt_pem, char **ret_key_pem)
{
        _cleanup_(gnutls_x509_privkey_deinitp) gnutls_x509_privkey_t key = NULL;
        _cleanup_(gnutls_pubkey_deinitp) gnutls_pubkey_t pub = NULL;
        _cleanup_secret_ char *key_pem = NULL;
        gnutls_privkey_t abstract = NULL;
        int r;

        r = key_generate(&key);
        if (r >= 0)
                r = key_to_pem(key, &key_pem);
        if (r >= 0)
                r = GT(gnutls_privkey_init(&abstract));
        if (r >= 0)
                r = GT(gnutls_privkey_import_x509(abstract, key, 0));
        if (r >= 0)
                r = GT(gnutls_pubkey_init(&pub));
        if (r >= 0)
                r = GT(gnutls_pubkey_import_privkey(pub, abstract, 0, 0));
        if (abstract)
                gnutls_privkey_deinit(abstract);
        if (r >= 0)
                r = sign_pubkey(pki, pub, spec, ret_crt_pem);
        if (r < 0)
                return r;
        *ret_key_pem = TAKE_PTR(key_pem);
        return 0;
}
