/* The /metrics exposition (Prometheus text format 0.0.4), byte for byte: what scrapers and dashboards
 * read. The HTTP side is tested by test-control.sh against a running agent. */

#include <stdio.h>

#include "check-tap.h"
#include "daemon/metrics.h"

static AgentStatus status(void)
{
        return (AgentStatus){
                .mode = "ephemeral",
                .version = "1.2.3",
                .enrolled = true,
                .agent_id = "3f2b7a1e-0000-4000-8000-000000000001",
                .degraded_reason = "",
                .event_source = "ebpf",
                .uptime_s = 3600,
                .seen = 1000,
                .pending_drops = 3,
                .delivery =
                        {
                                .sent = 990,
                                .queued = 7,
                                .queue_bytes = 2048,
                                .spooled = 0,
                                .spool_bytes = 0,
                                .dropped =
                                        {[DROP_RING_BUFFER] = 1, [DROP_QUEUE_FULL] = 2, [DROP_REJECTED] = 5},
                        },
                .not_after = 1767225600ULL * USEC_PER_SEC + 999999,
                .renewals = 3,
                .renewal_failures = 1,
                .healthy = true,
        };
}

static const char expected[] =
        "# HELP linuxguard_up 1 while the agent runs.\n"
        "# TYPE linuxguard_up gauge\n"
        "linuxguard_up 1\n"
        "# HELP linuxguard_info The agent's version and mode.\n"
        "# TYPE linuxguard_info gauge\n"
        "linuxguard_info{version=\"1.2.3\",mode=\"ephemeral\"} 1\n"
        "# HELP linuxguard_healthy 1 when 'linuxguard health' exits 0.\n"
        "# TYPE linuxguard_healthy gauge\n"
        "linuxguard_healthy 1\n"
        "# HELP linuxguard_degraded 1 when the eBPF sensors do not run.\n"
        "# TYPE linuxguard_degraded gauge\n"
        "linuxguard_degraded 0\n"
        "# HELP linuxguard_enrolled 1 when an mTLS identity is in use.\n"
        "# TYPE linuxguard_enrolled gauge\n"
        "linuxguard_enrolled 1\n"
        "# HELP linuxguard_uptime_seconds Seconds since the agent started.\n"
        "# TYPE linuxguard_uptime_seconds gauge\n"
        "linuxguard_uptime_seconds 3600\n"
        "# HELP linuxguard_events_total Events the sensors delivered, by source.\n"
        "# TYPE linuxguard_events_total counter\n"
        "linuxguard_events_total{source=\"ebpf\"} 1000\n"
        "linuxguard_events_total{source=\"proc_connector\"} 0\n"
        "# HELP linuxguard_events_sent_total Events the backend accepted (--output api) or written to the "
        "local output.\n"
        "# TYPE linuxguard_events_sent_total counter\n"
        "linuxguard_events_sent_total 990\n"
        "# HELP linuxguard_events_spooled_total Events written to the on-disk spool.\n"
        "# TYPE linuxguard_events_spooled_total counter\n"
        "linuxguard_events_spooled_total 0\n"
        "# HELP linuxguard_events_dropped_total Events lost, by cause.\n"
        "# TYPE linuxguard_events_dropped_total counter\n"
        "linuxguard_events_dropped_total{cause=\"ring_buffer\"} 1\n"
        "linuxguard_events_dropped_total{cause=\"queue_full\"} 2\n"
        "linuxguard_events_dropped_total{cause=\"spool_cap\"} 0\n"
        "linuxguard_events_dropped_total{cause=\"corrupt_record\"} 0\n"
        "linuxguard_events_dropped_total{cause=\"rejected\"} 5\n"
        "linuxguard_events_dropped_total{cause=\"untracked\"} 0\n"
        "# HELP linuxguard_queue_events Events waiting in memory for delivery.\n"
        "# TYPE linuxguard_queue_events gauge\n"
        "linuxguard_queue_events 7\n"
        "# HELP linuxguard_queue_bytes Bytes the in-memory delivery queue holds.\n"
        "# TYPE linuxguard_queue_bytes gauge\n"
        "linuxguard_queue_bytes 2048\n"
        "# HELP linuxguard_spool_bytes Spool bytes not yet delivered.\n"
        "# TYPE linuxguard_spool_bytes gauge\n"
        "linuxguard_spool_bytes 0\n"
        "# HELP linuxguard_certificate_expiry_timestamp_seconds The client certificate's notAfter, in "
        "seconds since the epoch.\n"
        "# TYPE linuxguard_certificate_expiry_timestamp_seconds gauge\n"
        "linuxguard_certificate_expiry_timestamp_seconds 1767225600\n"
        "# HELP linuxguard_certificate_renewals_total Certificates renewed (or enrolled again) since "
        "start.\n"
        "# TYPE linuxguard_certificate_renewals_total counter\n"
        "linuxguard_certificate_renewals_total 3\n"
        "# HELP linuxguard_certificate_renewal_failures Consecutive failed renewal attempts; 0 after a "
        "success.\n"
        "# TYPE linuxguard_certificate_renewal_failures gauge\n"
        "linuxguard_certificate_renewal_failures 1\n";

START_TEST(test_exposition_bytes)
{
        AgentStatus st = status();
        _cleanup_(strbuf_done) StrBuf out = {};

        metrics_render(&st, &out);
        ck_assert_int_eq(strbuf_error(&out), 0);
        ck_assert_str_eq(out.data, expected);
}
END_TEST

/* Degraded on the proc connector, unenrolled, unhealthy: the gauges flip, the events count moves to
 * the source that delivered them, and without a certificate its expiry is left out rather than 0. */
START_TEST(test_degraded_unenrolled)
{
        AgentStatus st = status();
        _cleanup_(strbuf_done) StrBuf out = {};

        st.degraded_reason = "BPF programs cannot be loaded (missing CAP_BPF)";
        st.event_source = "proc_connector";
        st.enrolled = false;
        st.healthy = false;
        st.not_after = USEC_INFINITY;
        metrics_render(&st, &out);
        ck_assert_ptr_nonnull(strstr(out.data, "\nlinuxguard_degraded 1\n"));
        ck_assert_ptr_nonnull(strstr(out.data, "\nlinuxguard_enrolled 0\n"));
        ck_assert_ptr_nonnull(strstr(out.data, "\nlinuxguard_healthy 0\n"));
        ck_assert_ptr_nonnull(strstr(out.data, "\nlinuxguard_events_total{source=\"ebpf\"} 0\n"));
        ck_assert_ptr_nonnull(
                strstr(out.data, "\nlinuxguard_events_total{source=\"proc_connector\"} 1000\n"));
        ck_assert_ptr_null(strstr(out.data, "certificate_expiry"));
}
END_TEST

/* Counters beyond 32 bits print whole. */
START_TEST(test_large_counters)
{
        AgentStatus st = status();
        _cleanup_(strbuf_done) StrBuf out = {};

        st.seen = UINT64_MAX;
        st.delivery.dropped[DROP_SPOOL_CAP] = 1ULL << 40;
        metrics_render(&st, &out);
        ck_assert_ptr_nonnull(
                strstr(out.data, "\nlinuxguard_events_total{source=\"ebpf\"} 18446744073709551615\n"));
        ck_assert_ptr_nonnull(
                strstr(out.data, "\nlinuxguard_events_dropped_total{cause=\"spool_cap\"} 1099511627776\n"));
}
END_TEST

static Suite *metrics_suite(void)
{
        Suite *s = suite_create("metrics");
        TCase *tc = tcase_create("metrics");

        tcase_add_test(tc, test_exposition_bytes);
        tcase_add_test(tc, test_degraded_unenrolled);
        tcase_add_test(tc, test_large_counters);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(metrics_suite)
