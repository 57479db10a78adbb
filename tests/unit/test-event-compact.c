/* event_to_compact() and status_to_compact(): the line a person reads, byte for byte, for one event of
 * each kind; colour, the time zone offset, and escaping of what a traced process controls. */

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdint.h>

#include "check-tap.h"
#include "core/event-compact.h"
#include "util/macro.h"

/* boot time 5 s + offset = 2023-11-14T22:13:20.123Z */
static const EventContext ctx = {
        .boot_to_realtime_ns = 1700000000123000000LL - 5000000000LL,
        .hostname = "host1",
};
static const CompactStyle plain = {.color = false, .utc_offset_s = 0};

static LgEvent base_event(uint16_t type)
{
        LgEvent ev = {
                .hdr =
                        {
                                .type = type,
                                .seq = 42,
                                .ts_ns = 5000000000ULL,
                                .pid = 4121,
                                .tid = 4121,
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

static void assert_line(const LgEvent *ev, const CompactStyle *style, const char *want)
{
        StrBuf b = {};

        ck_assert_int_eq(event_to_compact(ev, &ctx, style, &b), 0);
        ck_assert_str_eq(b.data, want);
        strbuf_done(&b);
}

static void set_path(LgEvent *ev, const char *path)
{
        ev->path = path;
        ev->path_len = strlen(path);
}

START_TEST(test_compact_exec)
{
        static const char argv[] = "curl\0-s\0http://x";
        LgEvent ev = base_event(LG_EVENT_EXEC);

        set_path(&ev, "/usr/bin/curl");
        ev.argv = argv;
        ev.argv_size = sizeof(argv);
        ev.argc = 3;
        assert_line(&ev, &plain, "22:13:20 exec  bash[4121] -> /usr/bin/curl -s http://x  uid=1000\n");

        ev.container_id = "3f2a0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab";
        ev.exec.flags = LG_EXEC_ARGV_TRUNCATED;
        assert_line(
                &ev, &plain,
                "22:13:20 exec  bash[4121] -> /usr/bin/curl -s http://x ...  uid=1000 ctr=3f2a01234567\n");

        /* Without a path (the process connector may miss it), argv[0] stands for it. */
        ev = base_event(LG_EVENT_EXEC);
        ev.argv = argv;
        ev.argv_size = sizeof(argv);
        assert_line(&ev, &plain, "22:13:20 exec  bash[4121] -> curl -s http://x  uid=1000\n");
}
END_TEST

START_TEST(test_compact_exit)
{
        LgEvent ev = base_event(LG_EVENT_EXIT);

        ev.exit.exit_code = 3 << 8;
        assert_line(&ev, &plain, "22:13:20 exit  bash[4121] code=3\n");
        ev.exit.exit_code = 9;
        assert_line(&ev, &plain, "22:13:20 exit  bash[4121] killed by SIGKILL\n");
        ev.exit.exit_code = 11 | 0x80;
        assert_line(&ev, &plain, "22:13:20 exit  bash[4121] killed by SIGSEGV (core dumped)\n");
}
END_TEST

START_TEST(test_compact_cred)
{
        LgEvent ev = base_event(LG_EVENT_CRED);

        memcpy(ev.hdr.comm, "sudo", 5);
        ev.hdr.uid = ev.hdr.euid = 0;
        ev.cred = (struct lg_cred){
                .op = LG_CRED_SETRESUID,
                .args = {0, 0, UINT32_MAX},
                .old_uid = 1000,
                .old_euid = 1000,
                .old_gid = 1000,
                .old_egid = 1000,
        };
        assert_line(&ev, &plain, "22:13:20 cred  sudo[4121] setresuid(0, 0, -1) uid 1000->0 euid 1000->0\n");

        ev.cred.op = LG_CRED_SETUID;
        ev.cred.result = -EPERM;
        assert_line(&ev, &plain, "22:13:20 cred  sudo[4121] setuid(0) failed: EPERM\n");

        ev.cred = (struct lg_cred){.op = LG_CRED_CAPSET,
                                   .old_uid = 0,
                                   .old_euid = 0,
                                   .old_gid = 1000,
                                   .old_egid = 1000,
                                   .old_cap_effective = 0x1ff,
                                   .cap_effective = 0x1};
        assert_line(&ev, &plain, "22:13:20 cred  sudo[4121] capset() caps 0x1ff->0x1\n");

        /* The process connector only knows the new ids. */
        ev = base_event(LG_EVENT_CRED);
        ev.source = LG_EVENT_SOURCE_PROC_CONNECTOR;
        ev.hdr.uid = ev.hdr.euid = 65534;
        assert_line(&ev, &plain, "22:13:20 cred  bash[4121] uid=65534 euid=65534\n");
}
END_TEST

START_TEST(test_compact_file)
{
        LgEvent ev = base_event(LG_EVENT_FILE);

        memcpy(ev.hdr.comm, "cat", 4);
        ev.hdr.pid = 4133;
        ev.file.op = LG_FILE_OPEN;
        ev.file.flags = O_RDONLY;
        set_path(&ev, "/etc/shadow");
        assert_line(&ev, &plain, "22:13:20 open  cat[4133] /etc/shadow (read)\n");

        ev.file.flags = O_WRONLY | O_CREAT | O_TRUNC;
        ev.file.result = -EACCES;
        assert_line(&ev, &plain,
                    "22:13:20 open  cat[4133] /etc/shadow (write, create, truncate) failed: EACCES\n");
        ev.file.flags = O_RDWR;
        ev.file.result = 3;
        ev.container_id = "abc";
        assert_line(&ev, &plain, "22:13:20 open  cat[4133] /etc/shadow (read-write)  ctr=abc\n");

        ev = base_event(LG_EVENT_FILE);
        memcpy(ev.hdr.comm, "rm", 3);
        ev.file.op = LG_FILE_UNLINK;
        set_path(&ev, "/etc/cron.d/job");
        assert_line(&ev, &plain, "22:13:20 unlink rm[4121] /etc/cron.d/job\n");

        ev = base_event(LG_EVENT_FILE);
        memcpy(ev.hdr.comm, "mv", 3);
        ev.file.op = LG_FILE_RENAME;
        set_path(&ev, "/etc/passwd.new");
        ev.path2 = "/etc/passwd";
        ev.path2_len = strlen(ev.path2);
        ev.file.str_flags = LG_FILE_PATH2_TRUNCATED;
        assert_line(&ev, &plain, "22:13:20 rename mv[4121] /etc/passwd.new -> /etc/passwd ...\n");

        ev.file.op = 99;
        StrBuf b = {};
        ck_assert_int_eq(event_to_compact(&ev, &ctx, &plain, &b), -EINVAL);
        ck_assert_uint_eq(b.len, 0);
        strbuf_done(&b);
}
END_TEST

START_TEST(test_compact_net)
{
        LgEvent ev = base_event(LG_EVENT_NET);

        memcpy(ev.hdr.comm, "curl", 5);
        ev.hdr.pid = 4122;
        ev.net = (struct lg_net){.op = LG_NET_CONNECT,
                                 .family = 2,
                                 .protocol = 6,
                                 .lport = 51234,
                                 .rport = 443,
                                 .result = -EINPROGRESS};
        ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.5", ev.net.laddr), 1);
        ck_assert_int_eq(inet_pton(AF_INET, "198.51.100.7", ev.net.raddr), 1);
        assert_line(&ev, &plain, "22:13:20 connect curl[4122] 192.0.2.5:51234 -> 198.51.100.7:443 tcp\n");

        ev.net.result = -ECONNREFUSED;
        assert_line(&ev, &plain,
                    "22:13:20 connect curl[4122] 192.0.2.5:51234 -> 198.51.100.7:443 tcp failed: "
                    "ECONNREFUSED\n");

        /* An accept: the peer is the source. */
        memcpy(ev.hdr.comm, "sshd", 5);
        ev.net = (struct lg_net){
                .op = LG_NET_ACCEPT, .family = 10, .protocol = 6, .lport = 22, .rport = 40000, .result = 5};
        ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::1", ev.net.laddr), 1);
        ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::2", ev.net.raddr), 1);
        assert_line(&ev, &plain, "22:13:20 accept sshd[4122] [2001:db8::2]:40000 -> [2001:db8::1]:22 tcp\n");
}
END_TEST

START_TEST(test_compact_kernel)
{
        LgEvent ev = base_event(LG_EVENT_MODULE);

        memcpy(ev.hdr.comm, "insmod", 7);
        ev.name = "dummy";
        ev.name_len = 5;
        assert_line(&ev, &plain, "22:13:20 module insmod[4121] load dummy\n");
        ev.module.taints = 0x1000;
        assert_line(&ev, &plain, "22:13:20 module insmod[4121] load dummy taints=0x1000\n");

        ev = base_event(LG_EVENT_PTRACE);
        memcpy(ev.hdr.comm, "gdb", 4);
        ev.ptrace = (struct lg_ptrace){.request = 16, .target_pid = 777};
        assert_line(&ev, &plain, "22:13:20 ptrace gdb[4121] attach -> pid 777\n");
        ev.ptrace.request = 0x4206;
        assert_line(&ev, &plain, "22:13:20 ptrace gdb[4121] seize -> pid 777\n");

        ev = base_event(LG_EVENT_BPF_PROG);
        memcpy(ev.hdr.comm, "bpftool", 8);
        ev.bpf_prog = (struct lg_bpf_prog){.prog_type = 1, .insn_cnt = 12};
        assert_line(&ev, &plain, "22:13:20 bpf   bpftool[4121] load program (unnamed) (type 1, 12 insns)\n");
        ev.name = "xdp_drop";
        ev.name_len = 8;
        assert_line(&ev, &plain, "22:13:20 bpf   bpftool[4121] load program xdp_drop (type 1, 12 insns)\n");
}
END_TEST

/* A file name is the traced process's to choose: nothing in it reaches the terminal as a control. */
START_TEST(test_compact_escapes)
{
        static const char path[] = "/etc/\033[2Jx\\y\n\xc2\x9b"
                                   "1m\xff\xc3\xa9";
        LgEvent ev = base_event(LG_EVENT_FILE);

        ev.file.op = LG_FILE_UNLINK;
        ev.path = path;
        ev.path_len = sizeof(path) - 1;
        memcpy(ev.hdr.comm, "a\033b", 4);
        assert_line(&ev, &plain,
                    "22:13:20 unlink a\\x1bb[4121] /etc/\\x1b[2Jx\\\\y\\x0a\\xc2\\x9b1m\\xff\xc3\xa9\n");
}
END_TEST

START_TEST(test_compact_color_and_zone)
{
        static const CompactStyle color = {.color = true, .utc_offset_s = 3600};
        LgEvent ev = base_event(LG_EVENT_FILE);

        memcpy(ev.hdr.comm, "cat", 4);
        ev.file.op = LG_FILE_OPEN;
        ev.file.result = -ENOENT;
        set_path(&ev, "/etc/shadow");
        assert_line(&ev, &color,
                    "\033[2m23:13:20\033[0m \033[33mopen\033[0m  cat[4121] /etc/shadow (read) "
                    "\033[31mfailed: ENOENT\033[0m\n");
}
END_TEST

START_TEST(test_compact_status)
{
        CompactStatus st = {
                .time_ms = 1700000000123LL,
                .mode = "host",
                .uptime_s = 35,
                .events = 1234,
                .ring_drops = 2,
        };
        static const CompactStyle color = {.color = true};
        StrBuf b = {};

        ck_assert_int_eq(status_to_compact(&st, &plain, &b), 0);
        ck_assert_str_eq(b.data, "22:13:20 status linuxguard host, up 35s, 1234 events, 2 lost\n");
        strbuf_reset(&b);
        st.degraded = "eBPF sensors unavailable: tracefs: not mounted";
        ck_assert_int_eq(status_to_compact(&st, &color, &b), 0);
        ck_assert_str_eq(b.data,
                         "\033[2m22:13:20\033[0m \033[34mstatus\033[0m linuxguard host, up 35s, 1234 "
                         "events, 2 lost, \033[31mdegraded: eBPF sensors unavailable: tracefs: not "
                         "mounted\033[0m\n");
        strbuf_done(&b);
}
END_TEST

static Suite *compact_suite(void)
{
        Suite *s = suite_create("event-compact");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_compact_exec);
        tcase_add_test(tc, test_compact_exit);
        tcase_add_test(tc, test_compact_cred);
        tcase_add_test(tc, test_compact_file);
        tcase_add_test(tc, test_compact_net);
        tcase_add_test(tc, test_compact_kernel);
        tcase_add_test(tc, test_compact_escapes);
        tcase_add_test(tc, test_compact_color_and_zone);
        tcase_add_test(tc, test_compact_status);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(compact_suite)
