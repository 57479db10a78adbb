#pragma once
/* A throwaway CA for tests: makes CAs and signs CSRs or keys with GnuTLS, validity chosen by the test. */

#include <check.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct TestCa {
        gnutls_x509_privkey_t key;
        gnutls_x509_crt_t crt;
        char *pem;
} TestCa;

static inline char *test_pki_export_crt(gnutls_x509_crt_t crt)
{
        gnutls_datum_t d = {};
        char *s;

        ck_assert_int_ge(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d), 0);
        s = strndup((const char *)d.data, d.size);
        gnutls_free(d.data);
        ck_assert_ptr_nonnull(s);
        return s;
}

static inline char *test_pki_export_key(gnutls_x509_privkey_t key)
{
        gnutls_datum_t d = {};
        char *s;

        ck_assert_int_ge(
                gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &d), 0);
        s = strndup((const char *)d.data, d.size);
        gnutls_free(d.data);
        ck_assert_ptr_nonnull(s);
        return s;
}

static inline gnutls_x509_privkey_t test_pki_new_key(void)
{
        gnutls_x509_privkey_t key;

        ck_assert_int_ge(gnutls_x509_privkey_init(&key), 0);
        ck_assert_int_ge(gnutls_x509_privkey_generate2(key, GNUTLS_PK_ECDSA,
                                                       GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0,
                                                       NULL, 0),
                         0);
        return key;
}

static inline void test_pki_set_common(gnutls_x509_crt_t crt, const char *cn, time_t from, time_t until)
{
        static unsigned serial = 1;
        unsigned char s[4] = {0x10, (unsigned char)(serial >> 16), (unsigned char)(serial >> 8),
                              (unsigned char)serial};

        serial++;
        ck_assert_int_ge(gnutls_x509_crt_set_version(crt, 3), 0);
        ck_assert_int_ge(gnutls_x509_crt_set_serial(crt, s, sizeof(s)), 0);
        ck_assert_int_ge(gnutls_x509_crt_set_activation_time(crt, from), 0);
        ck_assert_int_ge(gnutls_x509_crt_set_expiration_time(crt, until), 0);
        if (cn)
                ck_assert_int_ge(
                        gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen(cn)),
                        0);
}

static inline void test_ca_init(TestCa *ca, const char *cn)
{
        time_t t = time(NULL);

        ca->key = test_pki_new_key();
        ck_assert_int_ge(gnutls_x509_crt_init(&ca->crt), 0);
        test_pki_set_common(ca->crt, cn, t - 3600, t + 10 * 365 * 86400);
        ck_assert_int_ge(gnutls_x509_crt_set_key(ca->crt, ca->key), 0);
        ck_assert_int_ge(gnutls_x509_crt_set_basic_constraints(ca->crt, 1, -1), 0);
        ck_assert_int_ge(
                gnutls_x509_crt_set_key_usage(ca->crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN), 0);
        ck_assert_int_ge(gnutls_x509_crt_sign2(ca->crt, ca->crt, ca->key, GNUTLS_DIG_SHA256, 0), 0);
        ca->pem = test_pki_export_crt(ca->crt);
}

static inline void test_ca_done(TestCa *ca)
{
        gnutls_x509_crt_deinit(ca->crt);
        gnutls_x509_privkey_deinit(ca->key);
        free(ca->pem);
}

static inline char *test_ca_sign_finish(TestCa *ca, gnutls_x509_crt_t crt, bool server)
{
        char *pem;

        ck_assert_int_ge(gnutls_x509_crt_set_basic_constraints(crt, 0, -1), 0);
        ck_assert_int_ge(gnutls_x509_crt_set_key_purpose_oid(
                                 crt, server ? GNUTLS_KP_TLS_WWW_SERVER : GNUTLS_KP_TLS_WWW_CLIENT, 0),
                         0);
        ck_assert_int_ge(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE), 0);
        ck_assert_int_ge(gnutls_x509_crt_sign2(crt, ca->crt, ca->key, GNUTLS_DIG_SHA256, 0), 0);
        pem = test_pki_export_crt(crt);
        gnutls_x509_crt_deinit(crt);
        return pem;
}

/* A client certificate for the key in a PEM CSR. */
static inline char *test_ca_sign_csr(TestCa *ca, const char *csr_pem, time_t from, time_t until)
{
        gnutls_datum_t d = {.data = (unsigned char *)(uintptr_t)csr_pem, .size = (unsigned)strlen(csr_pem)};
        gnutls_x509_crq_t crq;
        gnutls_x509_crt_t crt;

        ck_assert_int_ge(gnutls_x509_crq_init(&crq), 0);
        ck_assert_int_ge(gnutls_x509_crq_import(crq, &d, GNUTLS_X509_FMT_PEM), 0);
        ck_assert_int_ge(gnutls_x509_crt_init(&crt), 0);
        ck_assert_int_ge(gnutls_x509_crt_set_crq(crt, crq), 0);
        gnutls_x509_crq_deinit(crq);
        test_pki_set_common(crt, NULL, from, until);
        return test_ca_sign_finish(ca, crt, false);
}

/* A server certificate for 127.0.0.1 with a fresh key, returned as PEM. */
static inline char *test_ca_sign_server(TestCa *ca, char **ret_key_pem)
{
        gnutls_x509_privkey_t key = test_pki_new_key();
        unsigned char ip[4] = {127, 0, 0, 1};
        time_t t = time(NULL);
        gnutls_x509_crt_t crt;

        ck_assert_int_ge(gnutls_x509_crt_init(&crt), 0);
        test_pki_set_common(crt, "127.0.0.1", t - 3600, t + 86400);
        ck_assert_int_ge(gnutls_x509_crt_set_key(crt, key), 0);
        ck_assert_int_ge(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, sizeof(ip),
                                                              GNUTLS_FSAN_SET),
                         0);
        *ret_key_pem = test_pki_export_key(key);
        gnutls_x509_privkey_deinit(key);
        return test_ca_sign_finish(ca, crt, true);
}
