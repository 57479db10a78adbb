/* In-memory identity: key and CSR generation, sealed memfds, and every verdict of tls_identity_verify(). */

#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdint.h>

#include "check-tap.h"
#include "net/tls-identity.h"
#include "test-pki.h"

#define WORKLOAD_ID "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"

static TestCa ca, other_ca;
static time_t t0;

static void setup(void)
{
        t0 = time(NULL);
        test_ca_init(&ca, "linuxguard test CA");
        test_ca_init(&other_ca, "some other CA");
}

static void teardown(void)
{
        test_ca_done(&ca);
        test_ca_done(&other_ca);
}

static usec_t at(time_t t)
{
        return (usec_t)t * USEC_PER_SEC;
}

/* An identity with a certificate from `issuer`, valid for [from, until]. */
static TlsIdentity *issued_identity(TestCa *issuer, time_t from, time_t until)
{
        TlsIdentity *id = NULL;
        _cleanup_free_ char *cert = NULL;

        ck_assert_int_eq(tls_identity_generate(&id, WORKLOAD_ID), 0);
        cert = test_ca_sign_csr(issuer, tls_identity_get_csr(id), from, until);
        ck_assert_int_eq(tls_identity_set_certificate(id, cert, issuer->pem), 0);
        return id;
}

START_TEST(test_generate_csr)
{
        _cleanup_(tls_identity_freep) TlsIdentity *id = NULL;
        const char *csr, *key;
        gnutls_x509_crq_t crq;
        gnutls_datum_t d;
        char cn[128];
        size_t cn_size = sizeof(cn);
        unsigned bits = 0;

        ck_assert_int_eq(tls_identity_generate(&id, WORKLOAD_ID), 0);
        csr = tls_identity_get_csr(id);
        key = tls_identity_get_key_pem(id);
        ck_assert_ptr_nonnull(csr);
        ck_assert_ptr_nonnull(key);
        ck_assert_ptr_nonnull(strstr(key, "-----BEGIN PRIVATE KEY-----"));
        ck_assert_ptr_null(tls_identity_get_cert_pem(id));
        ck_assert_int_eq(tls_identity_get_key_fd(id), -EBADF);
        ck_assert_int_eq(tls_identity_verify(id, at(t0)), -ENODATA);

        d = (gnutls_datum_t){.data = (unsigned char *)(uintptr_t)csr, .size = (unsigned)strlen(csr)};
        ck_assert_int_ge(gnutls_x509_crq_init(&crq), 0);
        ck_assert_int_eq(gnutls_x509_crq_import(crq, &d, GNUTLS_X509_FMT_PEM), 0);
        /* The self-signature verifies, so the CSR was signed by the key it carries. */
        ck_assert_int_eq(gnutls_x509_crq_verify(crq, 0), 0);
        ck_assert_int_eq(gnutls_x509_crq_get_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cn_size),
                         0);
        ck_assert_str_eq(cn, WORKLOAD_ID);
        ck_assert_int_eq(gnutls_x509_crq_get_pk_algorithm(crq, &bits), GNUTLS_PK_ECDSA);
        ck_assert_uint_eq(bits, 256);
        ck_assert_int_eq(gnutls_x509_crq_get_signature_algorithm(crq), GNUTLS_SIGN_ECDSA_SHA256);
        gnutls_x509_crq_deinit(crq);

        ck_assert_int_eq(tls_identity_generate(&id, ""), -EINVAL);
}
END_TEST

static void assert_sealed(int fd, const char *want)
{
        char path[64], buf[8192];
        ssize_t n;
        int rw;

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(fcntl(fd, F_GET_SEALS) &
                                 (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE),
                         F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE);
        ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), -1);
        ck_assert_int_eq(errno, EPERM);

        errno = 0;
        ck_assert_int_eq(pwrite(fd, "x", 1, 0), -1);
        ck_assert_int_eq(errno, EPERM);
        ck_assert_int_eq(ftruncate(fd, 1), -1);
        ck_assert_int_eq(errno, EPERM);

        /* Reopening through /proc, as libcurl does, yields a fresh description that is sealed too. */
        snprintf(path, sizeof(path), "/proc/self/fd/%i", fd);
        rw = open(path, O_RDWR | O_CLOEXEC);
        ck_assert_int_ge(rw, 0);
        ck_assert_int_eq(write(rw, "x", 1), -1);
        ck_assert_int_eq(errno, EPERM);
        n = read(rw, buf, sizeof(buf) - 1);
        close(rw);
        ck_assert_int_gt(n, 0);
        buf[n] = 0;
        ck_assert_str_eq(buf, want);
        ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
}

START_TEST(test_memfds_sealed)
{
        _cleanup_(tls_identity_freep) TlsIdentity *id = issued_identity(&ca, t0 - 60, t0 + 3600);

        assert_sealed(tls_identity_get_key_fd(id), tls_identity_get_key_pem(id));
        assert_sealed(tls_identity_get_cert_fd(id), tls_identity_get_cert_pem(id));
        ck_assert_ptr_null(tls_identity_free(NULL));
}
END_TEST

START_TEST(test_verify_ok)
{
        _cleanup_(tls_identity_freep) TlsIdentity *id = issued_identity(&ca, t0 - 60, t0 + 3600);

        ck_assert_int_eq(tls_identity_verify(id, at(t0)), 0);
        ck_assert_uint_eq(tls_identity_get_not_after(id), at(t0 + 3600));
        ck_assert_str_eq(tls_identity_get_ca_chain_pem(id), ca.pem);
}
END_TEST

START_TEST(test_verify_time)
{
        _cleanup_(tls_identity_freep) TlsIdentity *id = issued_identity(&ca, t0 - 60, t0 + 3600);

        ck_assert_int_eq(tls_identity_verify(id, at(t0 + 3601)), -EKEYEXPIRED);
        ck_assert_int_eq(tls_identity_verify(id, at(t0 - 61)), -ETIME);
        ck_assert_str_eq(tls_identity_verify_strerror(-EKEYEXPIRED), "certificate expired");
}
END_TEST

START_TEST(test_verify_wrong_key)
{
        _cleanup_(tls_identity_freep) TlsIdentity *a = issued_identity(&ca, t0 - 60, t0 + 3600), *b = NULL,
                                                  *mixed = NULL;

        ck_assert_int_eq(tls_identity_generate(&b, WORKLOAD_ID), 0);
        ck_assert_int_eq(
                tls_identity_load(&mixed, tls_identity_get_key_pem(b), tls_identity_get_cert_pem(a), ca.pem),
                0);
        ck_assert_int_eq(tls_identity_verify(mixed, at(t0)), -ENOKEY);
}
END_TEST

START_TEST(test_verify_other_ca)
{
        _cleanup_(tls_identity_freep) TlsIdentity *a = issued_identity(&other_ca, t0 - 60, t0 + 3600),
                                                  *mixed = NULL;

        ck_assert_int_eq(tls_identity_verify(a, at(t0)), 0);
        ck_assert_int_eq(
                tls_identity_load(&mixed, tls_identity_get_key_pem(a), tls_identity_get_cert_pem(a), ca.pem),
                0);
        ck_assert_int_eq(tls_identity_verify(mixed, at(t0)), -EKEYREJECTED);
}
END_TEST

START_TEST(test_load_roundtrip)
{
        _cleanup_(tls_identity_freep) TlsIdentity *a = issued_identity(&ca, t0 - 60, t0 + 3600), *b = NULL;
        _cleanup_free_ char *bundle = NULL;

        ck_assert_int_eq(
                tls_identity_load(&b, tls_identity_get_key_pem(a), tls_identity_get_cert_pem(a), ca.pem), 0);
        ck_assert_str_eq(tls_identity_get_key_pem(b), tls_identity_get_key_pem(a));
        ck_assert_str_eq(tls_identity_get_cert_pem(b), tls_identity_get_cert_pem(a));
        ck_assert_int_eq(tls_identity_verify(b, at(t0)), 0);
        tls_identity_free(TAKE_PTR(b));

        /* A chain with an unrelated CA first still verifies: every CA in the chain is a trust anchor. */
        ck_assert_int_ge(asprintf(&bundle, "%s%s", other_ca.pem, ca.pem), 0);
        ck_assert_int_eq(
                tls_identity_load(&b, tls_identity_get_key_pem(a), tls_identity_get_cert_pem(a), bundle), 0);
        ck_assert_int_eq(tls_identity_verify(b, at(t0)), 0);
        tls_identity_free(TAKE_PTR(b));

        ck_assert_int_eq(tls_identity_load(&b, "garbage", tls_identity_get_cert_pem(a), ca.pem), -EBADMSG);
        ck_assert_int_eq(tls_identity_load(&b, tls_identity_get_key_pem(a), "garbage", ca.pem), -EBADMSG);
        ck_assert_int_eq(tls_identity_load(&b, tls_identity_get_key_pem(a), tls_identity_get_cert_pem(a),
                                           "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
                         -EBADMSG);
        ck_assert_ptr_null(b);
}
END_TEST

static Suite *tls_identity_suite(void)
{
        Suite *s = suite_create("tls-identity");
        TCase *tc = tcase_create("core");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_generate_csr);
        tcase_add_test(tc, test_memfds_sealed);
        tcase_add_test(tc, test_verify_ok);
        tcase_add_test(tc, test_verify_time);
        tcase_add_test(tc, test_verify_wrong_key);
        tcase_add_test(tc, test_verify_other_ca);
        tcase_add_test(tc, test_load_roundtrip);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(tls_identity_suite)
