/* event_to_json(): byte-exact OCSF lines for one event of each kind, and string escaping. */

#include <arpa/inet.h>
#include <stdint.h>

#include "check-tap.h"
#include "core/event-json.h"
#include "util/macro.h"

/* boot time 5 s + offset = 2023-11-14T22:13:20.123Z */
static const EventContext ctx = {
        .boot_to_realtime_ns = 1700000000123000000LL - 5000000000LL,
        .hostname = "host1",
        .product_version = "0.1.0",
        .stream_id = "0123456789abcdef0123456789abcdef",
};

static LgEvent base_event(uint16_t type)
{
        LgEvent ev = {
                .hdr =
                        {
                                .type = type,
                                .seq = 42,
                                .ts_ns = 5000000000ULL,
                                .cgroup_id = 77,
                                .pid = 100,
                                .tid = 101,
                                .ppid = 1,
                                .uid = 1000,
                                .gid = 1000,
                                .euid = 1000,
                                .egid = 1000,
                                .auid = UINT32_MAX,
                                .comm = "bash",
                        },
        };
        return ev;
}

#define COMMON(class_uid, category_uid, activity_id, type_uid)                                        \
        "{\"class_uid\":" class_uid ",\"category_uid\":" category_uid ",\"activity_id\":" activity_id \
        ",\"type_uid\":" type_uid
#define META                                                                                                \
        ",\"time\":1700000000123,\"metadata\":{\"version\":\"1.1.0\",\"product\":{\"name\":\"linuxguard\"," \
        "\"vendor_name\":\"linuxguard\",\"version\":\"0.1.0\"},\"sequence\":42,\"correlation_uid\":"        \
        "\"0123456789abcdef0123456789abcdef\"},\"device\":{\"hostname\":\"host1\",\"type_id\":0}"
#define ACTOR                                                                                             \
        ",\"actor\":{\"process\":{\"pid\":100,\"tid\":101,\"name\":\"bash\",\"user\":{\"uid\":\"1000\"}," \
        "\"parent_process\":{\"pid\":1}}}"
#define UNMAPPED_COMMON "\"unmapped\":{\"euid\":1000,\"gid\":1000,\"egid\":1000,\"cgroup_id\":77"

static void assert_json(const LgEvent *ev, const char *want)
{
        StrBuf b = {};

        ck_assert_int_eq(event_to_json(ev, &ctx, &b), 0);
        ck_assert_str_eq(b.data, want);
        strbuf_done(&b);
}

/* A process in a container: the container profile, process.container. */
#define META_CONTAINER                                                                                      \
        ",\"time\":1700000000123,\"metadata\":{\"version\":\"1.1.0\",\"product\":{\"name\":\"linuxguard\"," \
        "\"vendor_name\":\"linuxguard\",\"version\":\"0.1.0\"},\"sequence\":42,\"correlation_uid\":"        \
        "\"0123456789abcdef0123456789abcdef\",\"profiles\":[\"container\"]},\"device\":{\"hostname\":"      \
        "\"host1\",\"type_id\":0}"
#define CONTAINER \
        "\"container\":{\"uid\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}"

START_TEST(test_json_exec)
{
        static const char argv[] = "/bin/true\0--marker=a b\0\"q\"";
        LgEvent ev = base_event(LG_EVENT_EXEC);

        memcpy(ev.hdr.comm, "true", 5);
        ev.path = "/usr/bin/true";
        ev.path_len = strlen(ev.path);
        ev.argv = argv;
        ev.argv_size = sizeof(argv);
        ev.argc = 3;
        ev.exec.flags = LG_EXEC_ARGV_TRUNCATED;
        ev.container_id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_json(
                &ev,
                "{\"class_uid\":1007,\"category_uid\":1,\"activity_id\":1,\"type_uid\":100701,"
                "\"severity_id\":1" META_CONTAINER
                ",\"actor\":{\"process\":{\"pid\":100,\"tid\":101,\"name\":\"true\","
                "\"cmd_line\":\"/bin/true --marker=a b \\\"q\\\"\",\"file\":{\"name\":\"true\","
                "\"path\":\"/usr/bin/"
                "true\",\"type_id\":1},\"user\":{\"uid\":\"1000\"},\"parent_process\":{\"pid\":1}," CONTAINER
                "}},"
                "\"process\":{\"pid\":100,\"tid\":101,\"name\":\"true\","
                "\"cmd_line\":\"/bin/true --marker=a b \\\"q\\\"\",\"file\":{\"name\":\"true\","
                "\"path\":\"/usr/bin/"
                "true\",\"type_id\":1},\"user\":{\"uid\":\"1000\"},\"parent_process\":{\"pid\":1}," CONTAINER
                "},"
                "" UNMAPPED_COMMON ",\"argv_truncated\":true}}\n");
}
END_TEST

START_TEST(test_json_exit)
{
        LgEvent ev = base_event(LG_EVENT_EXIT);

        ev.exit.exit_code = (3 << 8);
        ev.hdr.auid = 1000;
        assert_json(&ev,
                    "{\"class_uid\":1007,\"category_uid\":1,\"activity_id\":2,\"type_uid\":100702,"
                    "\"severity_id\":1" META ACTOR
                    ",\"process\":{\"pid\":100,\"tid\":101,\"name\":\"bash\",\"user\":{\"uid\":\"1000\"},"
                    "\"parent_process\":{\"pid\":1}},\"exit_code\":3,"
                    "\"unmapped\":{\"euid\":1000,\"gid\":1000,\"egid\":1000,\"auid\":1000,\"cgroup_id\":77,"
                    "\"wait_status\":768,\"signal\":0,\"core_dumped\":false}}\n");
}
END_TEST

START_TEST(test_json_cred)
{
        LgEvent ev = base_event(LG_EVENT_CRED);

        ev.hdr.uid = ev.hdr.euid = 65534;
        ev.cred = (struct lg_cred){
                .op = LG_CRED_SETUID,
                .args = {65534, 0, 0},
                .old_uid = 0,
                .old_euid = 0,
                .old_gid = 0,
                .old_egid = 0,
                .old_cap_effective = 0x1ffffffffffULL,
        };
        assert_json(&ev,
                    "{\"class_uid\":1007,\"category_uid\":1,\"activity_id\":5,\"type_uid\":100705,"
                    "\"severity_id\":1" META
                    ",\"actor\":{\"process\":{\"pid\":100,\"tid\":101,\"name\":\"bash\",\"user\":{\"uid\":"
                    "\"65534\"},\"parent_process\":{\"pid\":1}}},"
                    "\"process\":{\"pid\":100,\"tid\":101,\"name\":\"bash\",\"user\":{\"uid\":\"65534\"},"
                    "\"parent_process\":{\"pid\":1}},\"status_id\":1,"
                    "\"unmapped\":{\"euid\":65534,\"gid\":1000,\"egid\":1000,\"cgroup_id\":77,"
                    "\"op\":\"setuid\",\"args\":[65534,0,0],\"result\":0,\"old_uid\":0,\"old_euid\":0,"
                    "\"old_gid\":0,\"old_egid\":0,\"old_cap_effective\":2199023255551,"
                    "\"cap_effective\":0,\"cap_permitted\":0}}\n");

        ev.cred.op = LG_CRED_CAPSET;
        ev.cred.result = -1;
        {
                StrBuf b = {};
                ck_assert_int_eq(event_to_json(&ev, &ctx, &b), 0);
                ck_assert_ptr_nonnull(strstr(b.data,
                                             "\"activity_id\":99,\"activity_name\":\"Set Capabilities\","
                                             "\"type_uid\":100799"));
                ck_assert_ptr_nonnull(strstr(b.data, "\"status_id\":2"));
                strbuf_done(&b);
        }
}
END_TEST

START_TEST(test_json_file)
{
        LgEvent ev = base_event(LG_EVENT_FILE);

        ev.file = (struct lg_file){.op = LG_FILE_RENAME, .result = -13};
        ev.path = "/etc/a";
        ev.path_len = 6;
        ev.path2 = "/etc/b";
        ev.path2_len = 6;
        assert_json(&ev, COMMON("1001", "1", "5",
                                "100105") ",\"severity_id\":1" META ACTOR
                                          ",\"file\":{\"name\":\"a\",\"path\":\"/etc/a\",\"type_id\":0},"
                                          "\"file_result\":{\"name\":\"b\",\"path\":\"/"
                                          "etc/b\",\"type_id\":0},\"status_id\":2," UNMAPPED_COMMON
                                          ",\"result\":-13,\"flags\":0}}\n");

        ev.file = (struct lg_file){.op = LG_FILE_OPEN, .result = 3, .flags = 0101, .mode = 0644};
        ev.path = "/etc/shadow";
        ev.path_len = 11;
        ev.path2 = NULL;
        ev.path2_len = 0;
        assert_json(&ev, COMMON("1001", "1", "14",
                                "100114") ",\"severity_id\":1" META ACTOR
                                          ",\"file\":{\"name\":\"shadow\",\"path\":\"/"
                                          "etc/shadow\",\"type_id\":0},\"status_id\":1," UNMAPPED_COMMON
                                          ",\"result\":3,\"flags\":65,\"mode\":420}}\n");

        /* A relative path the kernel joined to its directory says so. */
        ev.file = (struct lg_file){.op = LG_FILE_OPEN, .result = -13, .str_flags = LG_FILE_PATH_RESOLVED};
        assert_json(&ev, COMMON("1001", "1", "14",
                                "100114") ",\"severity_id\":1" META ACTOR
                                          ",\"file\":{\"name\":\"shadow\",\"path\":\"/"
                                          "etc/shadow\",\"type_id\":0},\"status_id\":2," UNMAPPED_COMMON
                                          ",\"result\":-13,\"flags\":0,\"mode\":0,"
                                          "\"path_resolved\":true}}\n");
}
END_TEST

/* Network Activity has device and actor from the host profile. */
#define META_HOST                                                                                           \
        ",\"time\":1700000000123,\"metadata\":{\"version\":\"1.1.0\",\"product\":{\"name\":\"linuxguard\"," \
        "\"vendor_name\":\"linuxguard\",\"version\":\"0.1.0\"},\"sequence\":42,\"correlation_uid\":"        \
        "\"0123456789abcdef0123456789abcdef\",\"profiles\":[\"host\"]},\"device\":{\"hostname\":"           \
        "\"host1\",\"type_id\":0}"

START_TEST(test_json_net)
{
        LgEvent ev = base_event(LG_EVENT_NET);

        ev.net = (struct lg_net){
                .op = LG_NET_CONNECT, .family = 2, .protocol = 6, .lport = 40000, .rport = 443};
        inet_pton(AF_INET, "10.0.0.1", ev.net.laddr);
        inet_pton(AF_INET, "192.0.2.7", ev.net.raddr);
        assert_json(&ev, COMMON("4001", "4", "1", "400101") ",\"severity_id\":1" META_HOST ACTOR
                                                            ",\"connection_info\":{\"direction_id\":2,"
                                                            "\"protocol_num\":6,\"protocol_name\":\"tcp\","
                                                            "\"protocol_ver_id\":4},\"src_endpoint\":{"
                                                            "\"ip\":\"10.0.0.1\",\"port\":40000},"
                                                            "\"dst_endpoint\":{\"ip\":\"192.0.2.7\","
                                                            "\"port\":443},\"status_id\":1," UNMAPPED_COMMON
                                                            ",\"result\":0}}\n");

        ev.net = (struct lg_net){
                .op = LG_NET_ACCEPT, .family = 10, .protocol = 6, .lport = 22, .rport = 50000, .result = 5};
        inet_pton(AF_INET6, "::1", ev.net.laddr);
        inet_pton(AF_INET6, "2001:db8::2", ev.net.raddr);
        assert_json(&ev, COMMON("4001", "4", "1", "400101") ",\"severity_id\":1" META_HOST ACTOR
                                                            ",\"connection_info\":{\"direction_id\":1,"
                                                            "\"protocol_num\":6,\"protocol_name\":\"tcp\","
                                                            "\"protocol_ver_id\":6},\"src_endpoint\":{"
                                                            "\"ip\":\"2001:db8::2\",\"port\":50000},"
                                                            "\"dst_endpoint\":{\"ip\":\"::1\",\"port\":22},"
                                                            "\"status_id\":1," UNMAPPED_COMMON
                                                            ",\"result\":5}}\n");
}
END_TEST

START_TEST(test_json_kernel)
{
        LgEvent ev = base_event(LG_EVENT_MODULE);

        ev.module.taints = 4096;
        ev.name = "dummy";
        ev.name_len = 5;
        assert_json(
                &ev,
                COMMON("1002", "1", "1",
                       "100201") ",\"severity_id\":3" META ACTOR
                                 ",\"driver\":{\"file\":{\"name\":\"dummy\",\"type_id\":0}}," UNMAPPED_COMMON
                                 ",\"taints\":4096}}\n");

        ev = base_event(LG_EVENT_PTRACE);
        ev.ptrace = (struct lg_ptrace){.request = 0x4206, .target_pid = 555};
        assert_json(&ev, COMMON("1007", "1", "3", "100703") ",\"severity_id\":3" META ACTOR
                                                            ",\"process\":{\"pid\":555}," UNMAPPED_COMMON
                                                            ",\"ptrace_request\":\"seize\"}}\n");

        ev = base_event(LG_EVENT_BPF_PROG);
        ev.bpf_prog = (struct lg_bpf_prog){.prog_type = 2, .insn_cnt = 12};
        ev.name = "xdp_pass";
        ev.name_len = 8;
        assert_json(
                &ev,
                COMMON("1003", "1", "1", "100301") ",\"severity_id\":3" META
                        ACTOR ",\"kernel\":{\"name\":\"xdp_pass\",\"type_id\":99,\"type\":\"bpf_program\"},"
                                                   "" UNMAPPED_COMMON
                                                   ",\"bpf_prog_type\":2,\"insn_cnt\":12}}\n");
}
END_TEST

START_TEST(test_json_optional_context)
{
        EventContext bare = {.actor_cmd_line = "sshd -D", .actor_exe = "/usr/sbin/sshd"};
        LgEvent ev = base_event(LG_EVENT_PTRACE);
        StrBuf b = {};

        ev.ptrace.request = 16;
        ck_assert_int_eq(event_to_json(&ev, &bare, &b), 0);
        ck_assert_ptr_null(strstr(b.data, "\"device\""));
        ck_assert_ptr_null(strstr(b.data, "\"correlation_uid\""));
        ck_assert_ptr_nonnull(
                strstr(b.data, "\"product\":{\"name\":\"linuxguard\",\"vendor_name\":\"linuxguard\"}"));
        ck_assert_ptr_nonnull(strstr(b.data, "\"time\":5000,"));
        ck_assert_ptr_nonnull(strstr(b.data, "\"cmd_line\":\"sshd -D\",\"file\":{\"name\":\"sshd\",\"path\":"
                                             "\"/usr/sbin/sshd\",\"type_id\":1}"));
        ck_assert_ptr_nonnull(strstr(b.data, "\"ptrace_request\":\"attach\""));
        strbuf_done(&b);
}
END_TEST

START_TEST(test_json_appends_and_rejects)
{
        LgEvent ev = base_event(LG_EVENT_EXIT);
        StrBuf b = {};
        size_t one;

        ck_assert_int_eq(event_to_json(&ev, &ctx, &b), 0);
        one = b.len;
        ck_assert_int_eq(event_to_json(&ev, &ctx, &b), 0);
        ck_assert_uint_eq(b.len, 2 * one);
        ck_assert_int_eq(memcmp(b.data, b.data + one, one), 0);

        ev.hdr.type = 99;
        ck_assert_int_eq(event_to_json(&ev, &ctx, &b), -EINVAL);
        ev = base_event(LG_EVENT_FILE);
        ev.file.op = 9;
        ck_assert_int_eq(event_to_json(&ev, &ctx, &b), -EINVAL);
        ck_assert_uint_eq(b.len, 2 * one);
        strbuf_done(&b);
}
END_TEST

static void assert_escaped(const char *in, size_t n, const char *want)
{
        StrBuf b = {};

        json_put_string(&b, in, n);
        ck_assert_int_eq(strbuf_error(&b), 0);
        ck_assert_str_eq(b.data, want);
        strbuf_done(&b);
}

START_TEST(test_json_escaping)
{
        assert_escaped("plain", 5, "\"plain\"");
        assert_escaped("", 0, "\"\"");
        assert_escaped("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
        assert_escaped("\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"");
        assert_escaped("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"");
        assert_escaped("a\0b", 3, "\"a\\u0000b\"");
        /* Valid UTF-8 passes through: é, €, 😀. */
        assert_escaped("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9,
                       "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
        /* Invalid bytes become U+FFFD, one per byte, the rest is kept. */
        assert_escaped("/tmp/\xff\xfe", 7, "\"/tmp/\\ufffd\\ufffd\"");
        assert_escaped("\xc3", 1, "\"\\ufffd\"");                                  /* truncated sequence */
        assert_escaped("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");                       /* overlong '/' */
        assert_escaped("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");            /* surrogate */
        assert_escaped("\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* above U+10FFFF */
        assert_escaped("\xe2\x82", 2, "\"\\ufffd\\ufffd\"");
        assert_escaped("x\xe2\x82\xacy", 5, "\"x\xe2\x82\xacy\"");
}
END_TEST

START_TEST(test_json_path_with_any_byte)
{
        LgEvent ev = base_event(LG_EVENT_FILE);
        static const char path[] = "/etc/\"\\\n\xff";
        StrBuf b = {};

        ev.file.op = LG_FILE_UNLINK;
        ev.path = path;
        ev.path_len = sizeof(path) - 1;
        ck_assert_int_eq(event_to_json(&ev, &ctx, &b), 0);
        ck_assert_ptr_nonnull(strstr(b.data, "\"file\":{\"name\":\"\\\"\\\\\\n\\ufffd\","
                                             "\"path\":\"/etc/\\\"\\\\\\n\\ufffd\",\"type_id\":0}"));
        ck_assert_ptr_nonnull(strstr(b.data, "\"activity_id\":4,"));
        /* One line: the only newline is the terminator. */
        ck_assert_ptr_eq(strchr(b.data, '\n'), b.data + b.len - 1);
        strbuf_done(&b);
}
END_TEST

/* Degraded mode: the process connector's events say where they came from. */
#define META_PROC_CONNECTOR                                                                                 \
        ",\"time\":1700000000123,\"metadata\":{\"version\":\"1.1.0\",\"product\":{\"name\":\"linuxguard\"," \
        "\"vendor_name\":\"linuxguard\",\"version\":\"0.1.0\"},\"sequence\":42,\"correlation_uid\":"        \
        "\"0123456789abcdef0123456789abcdef\"},\"device\":{\"hostname\":"                                   \
        "\"host1\",\"type_id\":0}"

START_TEST(test_json_proc_connector)
{
        LgEvent ev = base_event(LG_EVENT_EXIT);

        ev.source = LG_EVENT_SOURCE_PROC_CONNECTOR;
        ev.exit.exit_code = 9;
        assert_json(
                &ev,
                "{\"class_uid\":1007,\"category_uid\":1,\"activity_id\":2,\"type_uid\":100702,"
                "\"severity_id\":1" META_PROC_CONNECTOR ACTOR
                ",\"process\":{\"pid\":100,\"tid\":101,\"name\":\"bash\",\"user\":{\"uid\":\"1000\"},"
                "\"parent_process\":{\"pid\":1}},\"exit_code\":0,"
                "" UNMAPPED_COMMON
                ",\"source\":\"proc_connector\",\"wait_status\":9,\"signal\":9,\"core_dumped\":false}}\n");

        /* PROC_EVENT_UID: the new uids without the syscall; an eBPF record without an op stays invalid. */
        ev = base_event(LG_EVENT_CRED);
        ev.source = LG_EVENT_SOURCE_PROC_CONNECTOR;
        ev.hdr.uid = ev.hdr.euid = 65534;
        assert_json(&ev,
                    "{\"class_uid\":1007,\"category_uid\":1,\"activity_id\":5,\"type_uid\":100705,"
                    "\"severity_id\":1" META_PROC_CONNECTOR
                    ",\"actor\":{\"process\":{\"pid\":100,\"tid\":101,\"name\":\"bash\",\"user\":{\"uid\":"
                    "\"65534\"},\"parent_process\":{\"pid\":1}}},"
                    "\"process\":{\"pid\":100,\"tid\":101,\"name\":\"bash\",\"user\":{\"uid\":\"65534\"},"
                    "\"parent_process\":{\"pid\":1}},\"status_id\":1,"
                    "\"unmapped\":{\"euid\":65534,\"gid\":1000,\"egid\":1000,\"cgroup_id\":77,"
                    "\"source\":\"proc_connector\"}}\n");
        ev.source = LG_EVENT_SOURCE_EBPF;
        {
                StrBuf b = {};
                ck_assert_int_eq(event_to_json(&ev, &ctx, &b), -EINVAL);
                ck_assert_uint_eq(b.len, 0);
                strbuf_done(&b);
        }
}
END_TEST

/* A process gone from /proc before the connector could read it: nothing invented (no uid 4294967295, no
 * empty name, no parent 0), and unmapped says what is missing and why. */
START_TEST(test_json_proc_connector_unknown)
{
        LgEvent ev = base_event(LG_EVENT_EXEC);

        ev.source = LG_EVENT_SOURCE_PROC_CONNECTOR;
        ev.hdr.comm[0] = 0;
        ev.hdr.ppid = 0;
        ev.hdr.cgroup_id = 0;
        ev.hdr.uid = ev.hdr.euid = ev.hdr.gid = ev.hdr.egid = UINT32_MAX;
        assert_json(
                &ev,
                "{\"class_uid\":1007,\"category_uid\":1,\"activity_id\":1,\"type_uid\":100701,"
                "\"severity_id\":1" META_PROC_CONNECTOR
                ",\"actor\":{\"process\":{\"pid\":100,\"tid\":101}},\"process\":{\"pid\":100,\"tid\":101},"
                "\"unmapped\":{\"source\":\"proc_connector\",\"missing\":[\"name\",\"user\","
                "\"parent_process\",\"cmd_line\",\"file\"],\"missing_reason\":\"the process had left "
                "/proc before the agent could read it\"}}\n");

        /* An exit whose status was gone: the parent comes from the event itself. */
        ev.hdr.type = LG_EVENT_EXIT;
        ev.hdr.ppid = 7;
        assert_json(&ev,
                    "{\"class_uid\":1007,\"category_uid\":1,\"activity_id\":2,\"type_uid\":100702,"
                    "\"severity_id\":1" META_PROC_CONNECTOR
                    ",\"actor\":{\"process\":{\"pid\":100,\"tid\":101,\"parent_process\":{\"pid\":7}}},"
                    "\"process\":{\"pid\":100,\"tid\":101,\"parent_process\":{\"pid\":7}},\"exit_code\":0,"
                    "\"unmapped\":{\"source\":\"proc_connector\",\"missing\":[\"name\",\"user\"],"
                    "\"missing_reason\":\"the process had left /proc before the agent could read it\","
                    "\"wait_status\":0,\"signal\":0,\"core_dumped\":false}}\n");
}
END_TEST

/* OCSF's hostname_t allows letters, digits, inner hyphens and dots: another machine name is device.name. */
START_TEST(test_json_device_name)
{
        static const struct {
                const char *hostname, *want;
        } cases[] = {
                {"web-1.example.com", "\"device\":{\"hostname\":\"web-1.example.com\",\"type_id\":0}"},
                {"a", "\"device\":{\"hostname\":\"a\",\"type_id\":0}"},
                {"build_box", "\"device\":{\"name\":\"build_box\",\"type_id\":0}"},
                {"-lead", "\"device\":{\"name\":\"-lead\",\"type_id\":0}"},
                {"trail-", "\"device\":{\"name\":\"trail-\",\"type_id\":0}"},
                {"two..dots", "\"device\":{\"name\":\"two..dots\",\"type_id\":0}"},
                {"end.", "\"device\":{\"name\":\"end.\",\"type_id\":0}"},
                {"", "\"device\":{\"name\":\"\",\"type_id\":0}"},
        };
        LgEvent ev = base_event(LG_EVENT_EXIT);

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                EventContext c = ctx;
                StrBuf b = {};

                c.hostname = cases[i].hostname;
                ck_assert_int_eq(event_to_json(&ev, &c, &b), 0);
                ck_assert_msg(strstr(b.data, cases[i].want), "%s: %s", cases[i].hostname, b.data);
                strbuf_done(&b);
        }
}
END_TEST

static Suite *json_suite(void)
{
        Suite *s = suite_create("event-json");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_json_exec);
        tcase_add_test(tc, test_json_exit);
        tcase_add_test(tc, test_json_cred);
        tcase_add_test(tc, test_json_file);
        tcase_add_test(tc, test_json_net);
        tcase_add_test(tc, test_json_kernel);
        tcase_add_test(tc, test_json_optional_context);
        tcase_add_test(tc, test_json_appends_and_rejects);
        tcase_add_test(tc, test_json_escaping);
        tcase_add_test(tc, test_json_path_with_any_byte);
        tcase_add_test(tc, test_json_proc_connector);
        tcase_add_test(tc, test_json_proc_connector_unknown);
        tcase_add_test(tc, test_json_device_name);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(json_suite)
