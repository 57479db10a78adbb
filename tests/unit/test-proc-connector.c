/* proc_status_parse(): what degraded mode reads from /proc/PID/status. */

#include <errno.h>
#include <stdint.h>

#include "check-tap.h"
#include "sensors/proc-connector.h"

START_TEST(test_status_parse)
{
        static const char status[] = "Name:\tsshd: root [priv]\n"
                                     "Umask:\t0022\n"
                                     "State:\tS (sleeping)\n"
                                     "Tgid:\t812\n"
                                     "PPid:\t1\n"
                                     "Uid:\t1000\t0\t0\t0\n"
                                     "Gid:\t100\t101\t102\t103\n"
                                     "Seccomp:\t0\n";
        ProcStatus s;

        ck_assert_int_eq(proc_status_parse(status, &s), 0);
        ck_assert_str_eq(s.name, "sshd: root [pri"); /* a comm is at most 15 bytes */
        ck_assert_uint_eq(s.ppid, 1);
        ck_assert_uint_eq(s.uid, 1000);
        ck_assert_uint_eq(s.euid, 0);
        ck_assert_uint_eq(s.gid, 100);
        ck_assert_uint_eq(s.egid, 101);
}
END_TEST

START_TEST(test_status_parse_partial)
{
        ProcStatus s;

        ck_assert_int_eq(proc_status_parse("Name:\tx\nPPid:\t7\n", &s), -EINVAL);
        ck_assert_int_eq(proc_status_parse("", &s), -EINVAL);
        /* No Gid: line, no trailing newline: the gids stay unknown. */
        ck_assert_int_eq(proc_status_parse("Name:\tkworker/0:1\nUid:\t0\t0\t0\t0", &s), 0);
        ck_assert_str_eq(s.name, "kworker/0:1");
        ck_assert_uint_eq(s.ppid, 0);
        ck_assert_uint_eq(s.uid, 0);
        ck_assert_uint_eq(s.gid, UINT32_MAX);
        ck_assert_uint_eq(s.egid, UINT32_MAX);
}
END_TEST

static Suite *proc_connector_suite(void)
{
        Suite *s = suite_create("proc-connector");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_status_parse);
        tcase_add_test(tc, test_status_parse_partial);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(proc_connector_suite)
