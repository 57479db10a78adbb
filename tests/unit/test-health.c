/* The health verdict: enrolment, expiry, and the notes that keep an agent healthy. */

#include "check-tap.h"
#include "core/health.h"
#include "util/macro.h"

#define T0 ((usec_t)1700000000 * USEC_PER_SEC)

START_TEST(test_local_only_agent_is_healthy)
{
        HealthInputs in = {.not_after = USEC_INFINITY};
        char reason[256];

        ck_assert(health_evaluate(&in, T0, reason, sizeof(reason)));
        ck_assert_str_eq(reason, "");
}
END_TEST

START_TEST(test_not_enrolled)
{
        HealthInputs in = {.identity_required = true, .enrolling = true, .not_after = USEC_INFINITY};
        char reason[256];

        ck_assert(!health_evaluate(&in, T0, reason, sizeof(reason)));
        ck_assert_str_eq(reason, "not enrolled yet: enrolment in progress");
        in.enrolling = false;
        ck_assert(!health_evaluate(&in, T0, reason, sizeof(reason)));
        ck_assert_str_eq(reason, "not enrolled: no identity to send events to the API with");
}
END_TEST

START_TEST(test_expiry)
{
        HealthInputs in = {.identity_required = true, .enrolled = true, .not_after = T0};
        char reason[256];

        ck_assert(health_evaluate(&in, T0 - 1, reason, sizeof(reason)));
        ck_assert_str_eq(reason, "");
        ck_assert(!health_evaluate(&in, T0 + 5 * USEC_PER_SEC, reason, sizeof(reason)));
        ck_assert_str_eq(reason, "certificate expired 5 s ago; no enrolment token to enrol again with");
        in.enrolling = true;
        in.renewal_failures = 3;
        in.renewal_error = "HTTP 503";
        ck_assert(!health_evaluate(&in, T0, reason, sizeof(reason)));
        ck_assert_str_eq(reason,
                         "certificate expired 0 s ago; enrolling again; certificate renewal failing (3 "
                         "attempts): HTTP 503");
}
END_TEST

START_TEST(test_notes_keep_it_healthy)
{
        HealthInputs in = {.enrolled = true,
                           .not_after = T0 + USEC_PER_SEC,
                           .renewal_failures = 1,
                           .degraded_reason = "bpf() was denied"};
        char reason[256], tiny[12];

        ck_assert(health_evaluate(&in, T0, reason, sizeof(reason)));
        ck_assert_str_eq(reason,
                         "certificate renewal failing (1 attempts): unknown error; degraded: bpf() was "
                         "denied");
        ck_assert(health_evaluate(&in, T0, tiny, sizeof(tiny)));
        ck_assert_uint_eq(strlen(tiny), sizeof(tiny) - 1);
}
END_TEST

static Suite *health_suite(void)
{
        Suite *s = suite_create("health");
        TCase *tc = tcase_create("verdict");

        tcase_add_test(tc, test_local_only_agent_is_healthy);
        tcase_add_test(tc, test_not_enrolled);
        tcase_add_test(tc, test_expiry);
        tcase_add_test(tc, test_notes_keep_it_healthy);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(health_suite)
