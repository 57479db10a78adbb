/* sd_notify helpers, read off a fake NOTIFY_SOCKET: the exact datagrams, and silence when disabled. */

#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "check-tap.h"
#include "daemon/notify.h"

static int sock = -1;
static char path[108];

static void setup(void)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};

        snprintf(path, sizeof(path), "/tmp/test-notify-%d.sock", (int)getpid());
        (void)unlink(path);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(sock, 0);
        ck_assert_int_eq(bind(sock, (struct sockaddr *)&sa, sizeof(sa)), 0);
        ck_assert_int_eq(setenv("NOTIFY_SOCKET", path, 1), 0);
}

static void teardown(void)
{
        sock = safe_close(sock);
        (void)unlink(path);
        unsetenv("NOTIFY_SOCKET");
        unsetenv("WATCHDOG_USEC");
        unsetenv("WATCHDOG_PID");
}

/* The next datagram, or "" if none is waiting. */
static const char *next_message(void)
{
        static char buf[1024];
        ssize_t n = recv(sock, buf, sizeof(buf) - 1, MSG_DONTWAIT);

        buf[n > 0 ? n : 0] = '\0';
        return buf;
}

START_TEST(test_messages)
{
        const char *m;

        ck_assert_int_gt(notify_ready(true), 0);
        ck_assert_str_eq(next_message(), "READY=1");
        ck_assert_int_gt(notify_status(true, "running: %d sensors, output %s", 3, "stdout"), 0);
        ck_assert_str_eq(next_message(), "STATUS=running: 3 sensors, output stdout");
        ck_assert_int_gt(notify_ready_status(true, "reloaded"), 0);
        ck_assert_str_eq(next_message(), "READY=1\nSTATUS=reloaded");
        ck_assert_int_gt(notify_stopping(true), 0);
        ck_assert_str_eq(next_message(), "STOPPING=1");

        ck_assert_int_gt(notify_reloading(true), 0);
        m = next_message();
        ck_assert_ptr_nonnull(startswith(m, "RELOADING=1\nMONOTONIC_USEC="));
        ck_assert_uint_gt(strtoull(startswith(m, "RELOADING=1\nMONOTONIC_USEC="), NULL, 10), 0);
}
END_TEST

START_TEST(test_status_is_one_line)
{
        char longer[600];

        ck_assert_int_gt(notify_status(true, "a\nb\tc%s", "\r"), 0);
        ck_assert_str_eq(next_message(), "STATUS=a b c ");
        memset(longer, 'x', sizeof(longer) - 1);
        longer[sizeof(longer) - 1] = '\0';
        ck_assert_int_gt(notify_status(true, "%s", longer), 0);
        ck_assert_uint_eq(strlen(next_message()), strlen("STATUS=") + 255);
}
END_TEST

/* Ephemeral mode: NOTIFY_SOCKET is set (inherited), yet nothing is ever sent. */
START_TEST(test_disabled_sends_nothing)
{
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;

        ck_assert_int_eq(notify_ready(false), 0);
        ck_assert_int_eq(notify_status(false, "x"), 0);
        ck_assert_int_eq(notify_ready_status(false, "x"), 0);
        ck_assert_int_eq(notify_reloading(false), 0);
        ck_assert_int_eq(notify_stopping(false), 0);
        ck_assert_str_eq(next_message(), "");

        ck_assert_int_eq(sd_event_new(&e), 0);
        setenv("WATCHDOG_USEC", "1000000", 1);
        ck_assert_int_eq(notify_watchdog_enable(false, e), 0);
        ck_assert_int_eq(sd_event_get_watchdog(e), 0);
}
END_TEST

/* The watchdog follows WATCHDOG_USEC: off without it, on and pinging from the loop with it. */
START_TEST(test_watchdog)
{
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        const char *m = "";
        char pid[32];

        ck_assert_int_eq(sd_event_new(&e), 0);
        ck_assert_int_eq(notify_watchdog_enable(true, e), 0);

        snprintf(pid, sizeof(pid), "%d", (int)getpid());
        setenv("WATCHDOG_PID", pid, 1);
        setenv("WATCHDOG_USEC", "200000", 1);
        ck_assert_int_eq(notify_watchdog_enable(true, e), 1);
        /* sd-event pings at least once per half interval: within 1 s of running the loop. */
        for (int i = 0; i < 20 && !*(m = next_message()); i++)
                ck_assert_int_ge(sd_event_run(e, 50 * 1000), 0);
        ck_assert_str_eq(m, "WATCHDOG=1");
}
END_TEST

static Suite *notify_suite(void)
{
        Suite *s = suite_create("notify");
        TCase *tc = tcase_create("notify");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_messages);
        tcase_add_test(tc, test_status_is_one_line);
        tcase_add_test(tc, test_disabled_sends_nothing);
        tcase_add_test(tc, test_watchdog);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(notify_suite)
