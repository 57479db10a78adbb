/* The heartbeat shapes of one status snapshot, byte for byte: the local record readers of the event stream
 * parse (an OCSF event, its own fields in unmapped), and the API heartbeat the backend stores. Same numbers,
 * each with its own field names. */

#include <json-c/json.h>

#include "check-tap.h"
#include "daemon/agent-status.h"

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
                .decode_errors = 4,
                .encode_errors = 6,
                .remote = true,
                .delivery =
                        {
                                .seen = 990,
                                .sent = 900,
                                .queued = 7,
                                .spooled = 11,
                                .spool_bytes = 2048,
                                .batches = 3,
                                .retries = 2,
                                .wire_bytes = 512,
                                .dropped =
                                        {[DROP_RING_BUFFER] = 1, [DROP_QUEUE_FULL] = 2, [DROP_REJECTED] = 5},
                        },
                .not_after = USEC_INFINITY,
        };
}

static void assert_json(json_object *o, const char *expected)
{
        ck_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), expected);
        json_object_put(o);
}

START_TEST(test_local_heartbeat)
{
        AgentStatus st = status();
        json_object *o;

        ck_assert_int_eq(agent_status_heartbeat_record(&st, 1767225600123456ULL, 42, &o), 0);
        assert_json(
                o,
                "{\"class_uid\":6002,\"category_uid\":6,\"activity_id\":99,\"activity_name\":\"Heartbeat\","
                "\"type_uid\":600299,\"severity_id\":1,\"time\":1767225600123,\"metadata\":{\"version\":"
                "\"1.1.0\",\"product\":{\"name\":\"linuxguard\",\"vendor_name\":\"linuxguard\",\"version\":"
                "\"1.2.3\"}},\"app\":{\"name\":\"linuxguard\",\"vendor_name\":\"linuxguard\",\"version\":"
                "\"1.2.3\"},\"status_id\":1,\"unmapped\":{"
                "\"type\":\"heartbeat\",\"sequence\":42,\"mode\":\"ephemeral\","
                "\"uptime_s\":3600,\"version\":\"1.2.3\",\"degraded\":null,\"events\":1000,"
                "\"ring_drops\":1,\"pending_drops\":3,\"decode_errors\":4,\"encode_errors\":6}}");

        st.degraded_reason = "eBPF sensors unavailable";
        ck_assert_int_eq(agent_status_heartbeat_record(&st, 0, 1, &o), 0);
        ck_assert_ptr_nonnull(strstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                                     "\"degraded\":\"eBPF sensors unavailable\""));
        ck_assert_ptr_nonnull(strstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                                     "\"status_id\":99,\"status\":\"Degraded\",\"status_detail\":\"eBPF "
                                     "sensors unavailable\""));
        json_object_put(o);
}
END_TEST

START_TEST(test_api_heartbeat)
{
        AgentStatus st = status();
        json_object *o;

        ck_assert_int_eq(agent_status_api_heartbeat(&st, &o), 0);
        assert_json(o, "{\"agentId\":\"3f2b7a1e-0000-4000-8000-000000000001\",\"agentVersion\":\"1.2.3\","
                       "\"mode\":\"ephemeral\",\"uptimeSeconds\":3600,\"degraded\":null,\"eventsSeen\":1000,"
                       "\"ringDrops\":1,\"pendingDrops\":3,\"delivery\":{\"seen\":990,\"sent\":900,"
                       "\"queued\":7,\"spooled\":11,"
                       "\"spoolBytes\":2048,\"batches\":3,\"retries\":2,\"wireBytes\":512,\"dropped\":{"
                       "\"ring_buffer\":1,\"queue_full\":2,\"spool_cap\":0,\"corrupt_record\":0,"
                       "\"rejected\":5,\"untracked\":0}}}");

        /* Events kept on a local output: the backend still hears the agent, without delivery counters. */
        st.remote = false;
        ck_assert_int_eq(agent_status_api_heartbeat(&st, &o), 0);
        assert_json(o, "{\"agentId\":\"3f2b7a1e-0000-4000-8000-000000000001\",\"agentVersion\":\"1.2.3\","
                       "\"mode\":\"ephemeral\",\"uptimeSeconds\":3600,\"degraded\":null,\"eventsSeen\":1000,"
                       "\"ringDrops\":1,\"pendingDrops\":3}");
}
END_TEST

static Suite *agent_status_suite(void)
{
        Suite *s = suite_create("agent-status");
        TCase *tc = tcase_create("agent-status");

        tcase_add_test(tc, test_local_heartbeat);
        tcase_add_test(tc, test_api_heartbeat);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(agent_status_suite)
