/* The sink interface over its two implementations: the local output writes bursts and status records to
 * its file and counts what it is handed; the shipper, as a sink, is remote and keeps events for the API. */

#include <fcntl.h>
#include <stdio.h>
#include <systemd/sd-event.h>

#include "check-tap.h"
#include "ship/output.h"
#include "ship/shipper.h"
#include "util/io-util.h"

static char dir[] = "/tmp/test-sink-XXXXXX";

static void setup(void)
{
        ck_assert_ptr_nonnull(mkdtemp(strcpy(dir, "/tmp/test-sink-XXXXXX")));
}

static void teardown(void)
{
        char cmd[64];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        ck_assert_int_eq(system(cmd), 0);
}

/* The whole file, NUL-terminated, in a static buffer. */
static const char *slurp(const char *path)
{
        static char buf[4096];
        ssize_t n;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        ck_assert_int_ge(fd, 0);
        n = read(fd, buf, sizeof(buf) - 1);
        ck_assert_int_ge(n, 0);
        buf[n] = 0;
        close(fd);
        return buf;
}

START_TEST(test_output_bursts_and_status)
{
        _cleanup_(sink_freep) Sink *s = NULL;
        char spec[256], path[128];
        SinkCounters c;

        snprintf(path, sizeof(path), "%s/events.json", dir);
        snprintf(spec, sizeof(spec), "file:%s", path);
        ck_assert_int_eq(output_sink_open(spec, NULL, &s), 0);
        ck_assert(!sink_is_remote(s));
        ck_assert_str_eq(sink_describe(s), path);

        ck_assert_int_eq(sink_submit(s, 1, "{\"a\":1}\n", 8), 0);
        ck_assert_int_eq(sink_submit(s, 2, "{\"b\":2}\n", 8), 0);
        ck_assert_str_eq(slurp(path), ""); /* a burst is written when it ends */
        sink_batch_end(s);
        ck_assert_str_eq(slurp(path), "{\"a\":1}\n{\"b\":2}\n");

        ck_assert_int_eq(sink_write_status(s, "{\"type\":\"heartbeat\"}", 20), 0);
        ck_assert_str_eq(slurp(path), "{\"a\":1}\n{\"b\":2}\n{\"type\":\"heartbeat\"}\n");

        sink_get_counters(s, &c);
        ck_assert_uint_eq(c.seen, 2);
        ck_assert_uint_eq(c.sent, 2);
        ck_assert_uint_eq(c.queued, 0);
        /* Nothing is held in memory: a shutdown has nothing to wait for. */
        ck_assert_int_eq(sink_drain(s, (SinkDrained)abort, NULL), 0);
}
END_TEST

/* Reload: another local output in place, counters kept; the API is a sink of its own. */
START_TEST(test_output_retarget)
{
        _cleanup_(sink_freep) Sink *s = NULL;
        char spec[256], path[128];
        SinkCounters c;

        ck_assert_int_eq(output_sink_open("api", NULL, &s), -EINVAL);
        ck_assert_int_eq(output_sink_open("stdout", NULL, &s), 0);
        ck_assert_str_eq(sink_describe(s), "stdout");
        ck_assert_int_eq(sink_submit(s, 1, "", 0), 0);
        sink_batch_end(s);

        snprintf(path, sizeof(path), "%s/second.json", dir);
        snprintf(spec, sizeof(spec), "file:%s", path);
        ck_assert_int_eq(sink_retarget(s, spec), 0);
        ck_assert_str_eq(sink_describe(s), path);
        ck_assert_int_eq(sink_submit(s, 2, "x\n", 2), 0);
        sink_batch_end(s);
        ck_assert_str_eq(slurp(path), "x\n");
        sink_get_counters(s, &c);
        ck_assert_uint_eq(c.sent, 2);

        ck_assert_int_eq(sink_retarget(s, "api"), -EOPNOTSUPP);
        ck_assert_int_eq(sink_retarget(s, "nonsense"), -EINVAL);
        ck_assert_str_eq(sink_describe(s), path);
        ck_assert_int_eq(sink_reopen(s), 0);
}
END_TEST

/* The shipper as a sink: remote, keeps what it is handed until a client is set, and cannot become a
 * local output on reload. Memory only, without a client: the shutdown has nobody to wait for. */
START_TEST(test_shipper_sink)
{
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        Shipper *shipper = NULL;
        ShipperConfig cfg;
        SinkCounters c;
        Sink *s;

        ck_assert_int_eq(sd_event_new(&e), 0);
        shipper_config_init(&cfg);
        ck_assert_int_eq(shipper_new(&shipper, e, &cfg), 0);
        s = shipper_as_sink(shipper);
        ck_assert(sink_is_remote(s));
        ck_assert_int_eq(sink_submit(s, 7, "{\"e\":7}\n", 8), 0);
        sink_batch_end(s);
        ck_assert_int_eq(sink_write_status(s, "{}", 2), 0); /* the API has a heartbeat of its own */
        ck_assert_int_eq(sink_retarget(s, "stdout"), -EOPNOTSUPP);
        ck_assert_int_eq(sink_flush(s), 0);
        sink_get_counters(s, &c);
        ck_assert_uint_eq(c.seen, 1);
        ck_assert_uint_eq(c.queued, 1);
        ck_assert_uint_eq(c.sent, 0);
        ck_assert_int_eq(sink_drain(s, (SinkDrained)abort, NULL), 0);
        ck_assert_ptr_null(sink_free(s));
}
END_TEST

START_TEST(test_drop_cause_names)
{
        for (DropCause i = 0; i < _DROP_CAUSE_MAX; i++)
                ck_assert_int_eq(drop_cause_from_string(drop_cause_to_string(i)), i);
        ck_assert_str_eq(drop_cause_to_string(DROP_QUEUE_FULL), "queue_full");
        ck_assert_int_lt(drop_cause_from_string("nonsense"), 0);
        ck_assert_int_lt(drop_cause_from_string(NULL), 0);
        ck_assert_ptr_null(drop_cause_to_string(_DROP_CAUSE_MAX));
}
END_TEST

static Suite *sink_suite(void)
{
        Suite *s = suite_create("sink");
        TCase *tc = tcase_create("sink");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_output_bursts_and_status);
        tcase_add_test(tc, test_output_retarget);
        tcase_add_test(tc, test_shipper_sink);
        tcase_add_test(tc, test_drop_cause_names);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(sink_suite)
