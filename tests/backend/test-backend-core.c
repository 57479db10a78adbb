/* The backend's pure pieces: the idempotency fingerprint, CSR vetting, NDJSON batches, fault counters. */

#include "backend-api.h"
#include "backend-faults.h"
#include "backend-pki.h"
#include "check-tap.h"

/* A PEM CSR for a fresh key of the given kind, signed by that key, with CN "tamper-me". */
static char *make_csr(gnutls_pk_algorithm_t algo, unsigned bits)
{
        _cleanup_(gnutls_x509_privkey_deinitp) gnutls_x509_privkey_t key = NULL;
        _cleanup_(gnutls_x509_crq_deinitp) gnutls_x509_crq_t crq = NULL;
        gnutls_datum_t d = {};
        char *pem;

        ck_assert_int_ge(gnutls_x509_privkey_init(&key), 0);
        ck_assert_int_ge(gnutls_x509_privkey_generate(key, algo, bits, 0), 0);
        ck_assert_int_ge(gnutls_x509_crq_init(&crq), 0);
        ck_assert_int_ge(gnutls_x509_crq_set_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME, 0, "tamper-me", 9),
                         0);
        ck_assert_int_ge(gnutls_x509_crq_set_key(crq, key), 0);
        ck_assert_int_ge(gnutls_x509_crq_sign2(crq, key,
                                               algo == GNUTLS_PK_EDDSA_ED25519 ? GNUTLS_DIG_UNKNOWN
                                                                               : GNUTLS_DIG_SHA256,
                                               0),
                         0);
        ck_assert_int_ge(gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_PEM, &d), 0);
        pem = strndup((const char *)d.data, d.size);
        gnutls_free(d.data);
        return pem;
}

static void assert_csr_refused(const char *pem, const char *expected_problem)
{
        gnutls_x509_crq_t crq = NULL;
        _cleanup_free_ char *problem = NULL;

        ck_assert_int_eq(csr_parse(pem, &crq, &problem), -EINVAL);
        ck_assert_ptr_null(crq);
        ck_assert_str_eq(problem, expected_problem);
}

START_TEST(test_csr_accepts_p256_p384_rsa2048)
{
        const struct {
                gnutls_pk_algorithm_t algo;
                unsigned bits;
        } ok[] = {
                {GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1)},
                {GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1)},
                {GNUTLS_PK_RSA, 2048},
        };

        FOREACH_ARRAY (k, ok, ELEMENTSOF(ok)) {
                _cleanup_free_ char *pem = make_csr(k->algo, k->bits), *problem = NULL;
                _cleanup_(gnutls_x509_crq_deinitp) gnutls_x509_crq_t crq = NULL;
                ck_assert_int_eq(csr_parse(pem, &crq, &problem), 0);
                ck_assert_ptr_nonnull(crq);
                ck_assert_ptr_null(problem);
        }
}
END_TEST

START_TEST(test_csr_refuses_weak_keys)
{
        _cleanup_free_ char *rsa1024 = make_csr(GNUTLS_PK_RSA, 1024);
        _cleanup_free_ char *p521 =
                make_csr(GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP521R1));
        _cleanup_free_ char *ed = make_csr(GNUTLS_PK_EDDSA_ED25519, 256);

        assert_csr_refused(rsa1024, "csr: RSA key of 1024 bits is too weak (minimum 2048)");
        assert_csr_refused(p521, "csr: EC curve SECP521R1 not accepted (need P-256 or P-384)");
        assert_csr_refused(
                ed, "csr: key algorithm EdDSA (Ed25519) not accepted (need EC P-256/P-384 or RSA >= 2048)");
}
END_TEST

START_TEST(test_csr_refuses_garbage_and_tampering)
{
        _cleanup_free_ char *pem =
                make_csr(GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1));
        _cleanup_free_ char *tampered = NULL;
        gnutls_datum_t in = {(unsigned char *)pem, (unsigned)strlen(pem)}, der = {}, out = {};
        char *cn;

        assert_csr_refused("", "csr: not a PEM-encoded PKCS#10 certificate request");
        assert_csr_refused("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
                           "csr: not a PEM-encoded PKCS#10 certificate request");

        /* Change one byte of the signed subject: the self-signature must no longer verify. */
        ck_assert_int_ge(gnutls_pem_base64_decode2(NULL, &in, &der), 0);
        cn = memmem(der.data, der.size, "tamper-me", 9);
        ck_assert_ptr_nonnull(cn);
        cn[0] = 'T';
        ck_assert_int_ge(gnutls_pem_base64_encode2("CERTIFICATE REQUEST", &der, &out), 0);
        tampered = strndup((const char *)out.data, out.size);
        gnutls_free(der.data);
        gnutls_free(out.data);
        assert_csr_refused(tampered, "csr: self-signature does not verify");
}
END_TEST

START_TEST(test_idempotency_hash)
{
        char a[SHA256_HEX_SIZE], b[SHA256_HEX_SIZE];

        ck_assert_int_eq(enroll_claim_hash("acme", "w1", "host", a), 0);
        ck_assert_int_eq(enroll_claim_hash("acme", "w1", "host", b), 0);
        ck_assert_str_eq(a, b);
        ck_assert_int_eq(strlen(a), 64);

        /* Each field of the claim matters... */
        ck_assert_int_eq(enroll_claim_hash("acme2", "w1", "host", b), 0);
        ck_assert_str_ne(a, b);
        ck_assert_int_eq(enroll_claim_hash("acme", "w2", "host", b), 0);
        ck_assert_str_ne(a, b);
        ck_assert_int_eq(enroll_claim_hash("acme", "w1", "ephemeral", b), 0);
        ck_assert_str_ne(a, b);

        /* ...and moving text across a field boundary changes the fingerprint. */
        ck_assert_int_eq(enroll_claim_hash("ab", "c", "host", a), 0);
        ck_assert_int_eq(enroll_claim_hash("a", "bc", "host", b), 0);
        ck_assert_str_ne(a, b);
        ck_assert_int_eq(enroll_claim_hash("a\",\"b", "c", "host", a), 0);
        ck_assert_int_eq(enroll_claim_hash("a", "b\",\"c", "host", b), 0);
        ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(test_ndjson_filter)
{
        const char batch[] = "{\"a\":1}\n\n  \n{\"b\":2}\r\n{\"c\":3}";
        char out[sizeof(batch) + 1];
        size_t n = 0, count = 0, bad = 0;

        ck_assert_int_eq(ndjson_filter(batch, strlen(batch), out, &n, &count, &bad), 0);
        ck_assert_int_eq(count, 3);
        ck_assert_int_eq(n, strlen("{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n"));
        ck_assert(memcmp(out, "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n", n) == 0);

        ck_assert_int_eq(ndjson_filter("{\"a\":1}\n{\"b\":", 13, NULL, NULL, &count, &bad), -EBADMSG);
        ck_assert_int_eq(bad, 2);
        ck_assert_int_eq(ndjson_filter("{\"a\":1} {\"b\":2}\n", 16, NULL, NULL, &count, &bad), -EBADMSG);
        ck_assert_int_eq(bad, 1);
        ck_assert_int_eq(ndjson_filter("[1,2]\n", 6, NULL, NULL, &count, &bad), -EBADMSG);
        ck_assert_int_eq(ndjson_filter("{\"a\":\n1}\n", 9, NULL, NULL, &count, &bad), -EBADMSG);
        ck_assert_int_eq(bad, 1);
        ck_assert_int_eq(ndjson_filter("", 0, NULL, NULL, &count, &bad), 0);
        ck_assert_int_eq(count, 0);
}
END_TEST

START_TEST(test_faults_consume)
{
        Faults f = {.fail503 = 2, .retry_after = 3, .cut_connection = 1, .malformed_json = 1, .delay_ms = 5};
        FaultPlan p;

        ck_assert(faults_consume(&f, "/agent/enroll", &p));
        ck_assert(p.fail503 && p.retry_after == 3 && p.delay_ms == 5 && !p.cut_connection);
        ck_assert(faults_consume(&f, "/agent/events", &p));
        ck_assert(p.fail503);
        ck_assert(faults_consume(&f, "/agent/enroll", &p));
        ck_assert(!p.fail503 && p.cut_connection && p.malformed_json);
        ck_assert(!faults_consume(&f, "/agent/enroll", &p));
        ck_assert(!p.fail503 && !p.cut_connection && !p.malformed_json && p.delay_ms == 5);

        /* A path filter leaves other paths untouched, delay included. */
        Faults g = {.fail503 = 1, .delay_ms = 5, .path = (char *)"/agent/enroll"};
        ck_assert(!faults_consume(&g, "/agent/heartbeat", &p));
        ck_assert(!p.fail503 && p.delay_ms == 0);
        ck_assert_int_eq(g.fail503, 1);
        ck_assert(faults_consume(&g, "/agent/enroll", &p));
        ck_assert(p.fail503);
        ck_assert_int_eq(g.fail503, 0);
}
END_TEST

static Suite *backend_core_suite(void)
{
        Suite *s = suite_create("backend-core");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 60); /* RSA key generation */
        tcase_add_test(tc, test_csr_accepts_p256_p384_rsa2048);
        tcase_add_test(tc, test_csr_refuses_weak_keys);
        tcase_add_test(tc, test_csr_refuses_garbage_and_tampering);
        tcase_add_test(tc, test_idempotency_hash);
        tcase_add_test(tc, test_ndjson_filter);
        tcase_add_test(tc, test_faults_consume);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(backend_core_suite)
