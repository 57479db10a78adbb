/* TOTP against the RFC 6238 appendix B vectors (SHA-256 column, 8 digits, 30 s step) and the acceptance
 * window of the backend (current and previous step only). */

#include "check-tap.h"
#include "totp.h"
#include "util/macro.h"

/* RFC 6238 appendix A: the SHA-256 seed is this 32-byte ASCII string. */
static const char seed[] = "12345678901234567890123456789012";

START_TEST(test_rfc6238_sha256_vectors)
{
        static const struct {
                uint64_t t;
                const char *totp;
        } vectors[] = {
                {59, "46119246"},         {1111111109, "68084774"}, {1111111111, "67062674"},
                {1234567890, "91819424"}, {2000000000, "90698825"}, {20000000000ULL, "77737706"},
        };
        char buf[TOTP_STRLEN];

        FOREACH_ARRAY (v, vectors, ELEMENTSOF(vectors)) {
                ck_assert_int_eq(totp_generate(seed, 32, v->t, 30, buf), 0);
                ck_assert_str_eq(buf, v->totp);
        }
}
END_TEST

START_TEST(test_verify_window)
{
        /* 1111111111 is in step 37037037; 1111111109 is the last second of step 37037036. */
        ck_assert_int_eq(totp_verify(seed, 32, "67062674", 1111111111, 30), 0);
        ck_assert_int_eq(totp_verify(seed, 32, "68084774", 1111111111, 30), 0);       /* previous step */
        ck_assert_int_eq(totp_verify(seed, 32, "46119246", 1111111111, 30), -EACCES); /* long ago */
        ck_assert_int_eq(totp_verify(seed, 32, "67062674", 1111111111 + 30, 30), 0);
        ck_assert_int_eq(totp_verify(seed, 32, "67062674", 1111111111 + 60, 30), -EACCES);
        ck_assert_int_eq(totp_verify(seed, 32, "67062675", 1111111111, 30), -EACCES);
}
END_TEST

START_TEST(test_verify_malformed)
{
        ck_assert_int_eq(totp_verify(seed, 32, "6706267", 1111111111, 30), -EINVAL);
        ck_assert_int_eq(totp_verify(seed, 32, "670626744", 1111111111, 30), -EINVAL);
        ck_assert_int_eq(totp_verify(seed, 32, "6706267a", 1111111111, 30), -EINVAL);
        ck_assert_int_eq(totp_verify(seed, 32, "", 1111111111, 30), -EINVAL);
        ck_assert_int_eq(totp_verify(seed, 32, NULL, 1111111111, 30), -EINVAL);
        ck_assert_int_eq(totp_verify(seed, 32, "67062674", 1111111111, 0), -EINVAL);
}
END_TEST

START_TEST(test_default_step_is_an_hour)
{
        char a[TOTP_STRLEN], b[TOTP_STRLEN];

        ck_assert_int_eq(TOTP_STEP_DEF, 3600);
        ck_assert_int_eq(totp_generate(seed, 32, 7200, TOTP_STEP_DEF, a), 0);
        ck_assert_int_eq(totp_generate(seed, 32, 10799, TOTP_STEP_DEF, b), 0);
        ck_assert_str_eq(a, b);
        ck_assert_int_eq(totp_verify(seed, 32, a, 10800 + 3599, TOTP_STEP_DEF), 0);
        ck_assert_int_eq(totp_verify(seed, 32, a, 14400, TOTP_STEP_DEF), -EACCES);
}
END_TEST

static Suite *totp_suite(void)
{
        Suite *s = suite_create("totp");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_rfc6238_sha256_vectors);
        tcase_add_test(tc, test_verify_window);
        tcase_add_test(tc, test_verify_malformed);
        tcase_add_test(tc, test_default_step_is_an_hour);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(totp_suite)
