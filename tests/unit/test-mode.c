/* The mode resolver: every combination of the four ephemeral triggers, and the profile each yields. */

#include "check-tap.h"
#include "core/mode.h"

START_TEST(test_all_trigger_combinations)
{
        /* _i runs over the 16 combinations: bit 0 flag, 1 token, 2 PID 1, 3 sentinel. */
        unsigned combo = (unsigned)_i;
        ModeInputs in = {
                .flag_ephemeral = combo & 1,
                .enroll_token = (combo & 2) ? "123456" : NULL,
                .pid = (combo & 4) ? 1 : 4242,
                .pid1_sentinel = (combo & 8) ? "1" : NULL,
                .built_with_loader_embedded = true,
        };
        Profile p;

        mode_resolve(&in, /* parent */ (combo & 8) ? 1 : 77, &p);

        ck_assert_uint_eq(p.triggers, combo);
        if (combo == 0) {
                ck_assert_int_eq(p.mode, MODE_HOST);
                ck_assert(p.pid_file);
                ck_assert_str_eq(p.state_dir, "/var/lib/linuxguard");
                ck_assert_int_eq(p.credentials, CREDENTIALS_DISK);
                ck_assert(p.sd_notify);
                ck_assert(p.log_to_journal);
                ck_assert(!p.loader_embedded);
                ck_assert(p.mount_tracefs);
        } else {
                ck_assert_int_eq(p.mode, MODE_EPHEMERAL);
                ck_assert(!p.pid_file);
                ck_assert_ptr_null(p.state_dir);
                ck_assert_int_eq(p.credentials, CREDENTIALS_MEMORY);
                ck_assert(!p.sd_notify);
                ck_assert(!p.log_to_journal);
                ck_assert(p.loader_embedded);
                ck_assert(!p.mount_tracefs);
        }
        /* Only PID 1 without the sentinel becomes the shim; with it, we are the agent the shim started. */
        ck_assert_int_eq(p.pid1_shim, (combo & 4) && !(combo & 8));
        ck_assert(!p.sentinel_misuse);
}
END_TEST

START_TEST(test_empty_token_is_not_a_trigger)
{
        ModeInputs in = {.enroll_token = "", .pid = 500};
        Profile p;

        mode_resolve(&in, 1, &p);
        ck_assert_int_eq(p.mode, MODE_HOST);
        ck_assert_uint_eq(p.triggers, 0);
}
END_TEST

START_TEST(test_sentinel_without_pid1_parent_still_triggers_and_is_flagged)
{
        ModeInputs in = {.pid1_sentinel = "1", .pid = 500};
        Profile p;

        mode_resolve(&in, 499, &p);
        ck_assert_int_eq(p.mode, MODE_EPHEMERAL);
        ck_assert_uint_eq(p.triggers, TRIGGER_SENTINEL);
        ck_assert(p.sentinel_misuse);
        ck_assert(!p.pid1_shim);
}
END_TEST

/* enroll, bpf and status choose the host, whoever runs them: no trigger counts, nothing becomes the shim. */
START_TEST(test_host_choice_ignores_every_trigger)
{
        ModeInputs in = {
                .choice = MODE_CHOICE_HOST,
                .flag_ephemeral = true,
                .enroll_token = "123456",
                .pid = 1,
                .pid1_sentinel = "1",
                .built_with_loader_embedded = true,
        };
        Profile p;

        mode_resolve(&in, 77, &p);
        ck_assert_int_eq(p.mode, MODE_HOST);
        ck_assert_uint_eq(p.triggers, 0);
        ck_assert(!p.pid1_shim);
        ck_assert(!p.sentinel_misuse);
        ck_assert(!p.loader_embedded);
        ck_assert_str_eq(p.state_dir, HOST_STATE_DIR);
}
END_TEST

START_TEST(test_loader_default_follows_build_option)
{
        ModeInputs in = {.flag_ephemeral = true, .pid = 500, .built_with_loader_embedded = false};
        Profile p;

        mode_resolve(&in, 1, &p);
        ck_assert(!p.loader_embedded);
}
END_TEST

START_TEST(test_trigger_names)
{
        char buf[128];

        mode_triggers_to_string(TRIGGER_FLAG | TRIGGER_PID1, buf, sizeof(buf));
        ck_assert_str_eq(buf, "--ephemeral, PID 1");
        mode_triggers_to_string(0, buf, sizeof(buf));
        ck_assert_str_eq(buf, "none");
        mode_triggers_to_string(TRIGGER_TOKEN | TRIGGER_SENTINEL, buf, sizeof(buf));
        ck_assert_str_eq(buf, "enroll token, LINUXGUARD_PID1_CHILD");
}
END_TEST

static Suite *mode_suite(void)
{
        Suite *s = suite_create("mode");
        TCase *tc = tcase_create("resolver");

        tcase_add_loop_test(tc, test_all_trigger_combinations, 0, 16);
        tcase_add_test(tc, test_empty_token_is_not_a_trigger);
        tcase_add_test(tc, test_sentinel_without_pid1_parent_still_triggers_and_is_flagged);
        tcase_add_test(tc, test_loader_default_follows_build_option);
        tcase_add_test(tc, test_host_choice_ignores_every_trigger);
        tcase_add_test(tc, test_trigger_names);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(mode_suite)
