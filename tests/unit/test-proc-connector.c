/* proc_status_parse(): what degraded mode reads from /proc/PID/status; proc_connector_fill(): what it
 * takes from /proc for an event, and what it leaves unknown when the process is gone. */

#include <errno.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* A pid that was just reaped: /proc has nothing for it. */
static uint32_t gone_pid(void)
{
        pid_t child = fork();

        ck_assert_int_ge(child, 0);
        if (child == 0)
                _exit(0);
        ck_assert_int_eq(waitpid(child, NULL, 0), child);
        return (uint32_t)child;
}

START_TEST(test_fill_live_process)
{
        _cleanup_(proc_connector_freep) ProcConnector *p = NULL;
        LgEvent ev = {.hdr.type = LG_EVENT_EXEC};
        uint32_t self = (uint32_t)getpid();

        ck_assert_int_eq(proc_connector_new(&p, 1), 0);
        ck_assert_int_eq(proc_connector_fill(p, self, self, &ev), 0);
        ck_assert_uint_eq(ev.hdr.uid, getuid());
        ck_assert_uint_eq(ev.hdr.gid, getgid());
        ck_assert_uint_eq(ev.hdr.ppid, (uint32_t)getppid());
        ck_assert_str_ne(ev.hdr.comm, "");
        ck_assert_ptr_nonnull(ev.path);
        ck_assert_ptr_nonnull(ev.argv);
}
END_TEST

START_TEST(test_fill_gone_process)
{
        _cleanup_(proc_connector_freep) ProcConnector *p = NULL;
        LgEvent ev = {.hdr.type = LG_EVENT_EXEC};
        uint32_t gone = gone_pid();

        ck_assert_int_eq(proc_connector_new(&p, 1), 0);
        ck_assert_int_eq(proc_connector_fill(p, gone, gone, &ev), -ESRCH);
        /* Unknown, not invented: the encoder leaves these out. */
        ck_assert_uint_eq(ev.hdr.uid, UINT32_MAX);
        ck_assert_uint_eq(ev.hdr.euid, UINT32_MAX);
        ck_assert_uint_eq(ev.hdr.gid, UINT32_MAX);
        ck_assert_uint_eq(ev.hdr.auid, UINT32_MAX);
        ck_assert_str_eq(ev.hdr.comm, "");
        ck_assert_uint_eq(ev.hdr.ppid, 0);
        ck_assert_uint_eq(ev.hdr.cgroup_id, 0);
        ck_assert_ptr_null(ev.path);
        ck_assert_ptr_null(ev.argv);
        ck_assert_ptr_null(ev.container_id);
}
END_TEST

/* A uid change reported for a thread that has exited: its process is still there to read. */
START_TEST(test_fill_gone_thread)
{
        _cleanup_(proc_connector_freep) ProcConnector *p = NULL;
        LgEvent ev = {.hdr.type = LG_EVENT_CRED};

        ck_assert_int_eq(proc_connector_new(&p, 1), 0);
        ck_assert_int_eq(proc_connector_fill(p, gone_pid(), (uint32_t)getpid(), &ev), 0);
        ck_assert_uint_eq(ev.hdr.uid, getuid());
        ck_assert_uint_eq(ev.hdr.ppid, (uint32_t)getppid());
        ck_assert_str_ne(ev.hdr.comm, "");
        ck_assert_ptr_null(ev.path); /* not an exec */
}
END_TEST

static Suite *proc_connector_suite(void)
{
        Suite *s = suite_create("proc-connector");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_status_parse);
        tcase_add_test(tc, test_status_parse_partial);
        tcase_add_test(tc, test_fill_live_process);
        tcase_add_test(tc, test_fill_gone_process);
        tcase_add_test(tc, test_fill_gone_thread);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(proc_connector_suite)
