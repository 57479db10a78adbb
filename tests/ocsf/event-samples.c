/* Prints one JSON line for every shape the agent emits: each event kind and variant through
 * event_to_json() (eBPF and process connector, with and without a container, with what /proc no longer
 * had) and the local heartbeat record, running and degraded. test-ocsf-samples.sh validates them all
 * against the OCSF schema, so a change to an encoder that breaks OCSF fails without eBPF or root. */

#include <arpa/inet.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "core/event-json.h"
#include "daemon/agent-status.h"
#include "util/macro.h"

static const EventContext ctx = {
        .boot_to_realtime_ns = 1700000000123000000LL - 5000000000LL,
        .hostname = "host-1.example.com",
        .product_version = "0.1.0",
        .stream_id = "0123456789abcdef0123456789abcdef",
        .actor_cmd_line = "bash -l",
        .actor_exe = "/usr/bin/bash",
};

static const char container_id[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static LgEvent base(uint16_t type)
{
        return (LgEvent){
                .hdr = {.type = type,
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
                        .auid = 1000,
                        .comm = "bash"},
        };
}

static int emit(const LgEvent *ev, const EventContext *c)
{
        StrBuf b = {};
        int r = event_to_json(ev, c, &b);

        if (r < 0) {
                fprintf(stderr, "event-samples: event type %u not encoded: %s\n", ev->hdr.type,
                        strerror(-r));
                strbuf_done(&b);
                return r;
        }
        fwrite(b.data, 1, b.len, stdout);
        strbuf_done(&b);
        return 0;
}

/* The same event as the eBPF sensors, inside a container, and as the process connector sends it. */
static int emit_variants(LgEvent ev)
{
        int r = emit(&ev, &ctx);

        ev.container_id = container_id;
        r = r ?: emit(&ev, &ctx);
        ev.container_id = NULL;
        ev.source = LG_EVENT_SOURCE_PROC_CONNECTOR;
        return r ?: emit(&ev, &ctx);
}

static int emit_events(void)
{
        static const char argv[] = "/bin/true\0--marker\0\xff";
        EventContext odd_host = ctx;
        LgEvent ev;
        int r;

        ev = base(LG_EVENT_EXEC);
        ev.path = "/usr/bin/true", ev.path_len = strlen(ev.path);
        ev.argv = argv, ev.argv_size = sizeof(argv), ev.argc = 3;
        ev.exec.flags = LG_EXEC_ARGV_TRUNCATED | LG_EXEC_FILENAME_TRUNCATED;
        r = emit_variants(ev);

        ev = base(LG_EVENT_EXIT);
        ev.exit.exit_code = 0x8b; /* SIGSEGV, core dumped */
        r = r ?: emit_variants(ev);

        ev = base(LG_EVENT_CRED);
        for (unsigned op = 1; op < _LG_CRED_OP_MAX && r == 0; op++) {
                ev.cred =
                        (struct lg_cred){.op = op, .args = {65534, 65534, 65534}, .result = op % 2 ? 0 : -1};
                r = emit_variants(ev);
        }
        ev.cred = (struct lg_cred){};
        ev.source = LG_EVENT_SOURCE_PROC_CONNECTOR;
        r = r ?: emit(&ev, &ctx);

        ev = base(LG_EVENT_FILE);
        ev.path = "/etc/shadow", ev.path_len = strlen(ev.path);
        ev.file = (struct lg_file){.op = LG_FILE_OPEN,
                                   .result = -13,
                                   .flags = 0101,
                                   .mode = 0600,
                                   .str_flags = LG_FILE_PATH_RESOLVED | LG_FILE_PATH_TRUNCATED};
        r = r ?: emit_variants(ev);
        ev.file = (struct lg_file){.op = LG_FILE_UNLINK};
        r = r ?: emit_variants(ev);
        ev.file = (struct lg_file){.op = LG_FILE_RENAME};
        ev.path2 = "/etc/shadow-", ev.path2_len = strlen(ev.path2);
        r = r ?: emit_variants(ev);

        ev = base(LG_EVENT_NET);
        ev.net = (struct lg_net){.op = LG_NET_CONNECT,
                                 .family = 2,
                                 .protocol = 6,
                                 .lport = 40000,
                                 .rport = 443,
                                 .result = -111};
        inet_pton(AF_INET, "10.0.0.1", ev.net.laddr);
        inet_pton(AF_INET, "192.0.2.7", ev.net.raddr);
        r = r ?: emit_variants(ev);
        ev.net = (struct lg_net){
                .op = LG_NET_ACCEPT, .family = 10, .protocol = 6, .lport = 22, .rport = 65535};
        inet_pton(AF_INET6, "::1", ev.net.laddr);
        inet_pton(AF_INET6, "2001:db8::2", ev.net.raddr);
        r = r ?: emit_variants(ev);

        ev = base(LG_EVENT_MODULE);
        ev.name = "dummy", ev.name_len = 5, ev.module.taints = 4096;
        r = r ?: emit_variants(ev);

        ev = base(LG_EVENT_PTRACE);
        ev.ptrace = (struct lg_ptrace){.request = 16, .target_pid = 555};
        r = r ?: emit_variants(ev);

        ev = base(LG_EVENT_BPF_PROG);
        ev.name = "xdp_pass", ev.name_len = 8;
        ev.bpf_prog = (struct lg_bpf_prog){.prog_type = 6, .insn_cnt = 2};
        r = r ?: emit_variants(ev);

        /* The process connector, the process gone from /proc: nothing but the pids. */
        ev = base(LG_EVENT_EXEC);
        ev.source = LG_EVENT_SOURCE_PROC_CONNECTOR;
        ev.hdr.comm[0] = 0;
        ev.hdr.ppid = 0, ev.hdr.cgroup_id = 0;
        ev.hdr.uid = ev.hdr.euid = ev.hdr.gid = ev.hdr.egid = ev.hdr.auid = UINT32_MAX;
        r = r ?: emit(&ev, &ctx);
        ev.hdr.type = LG_EVENT_EXIT;
        r = r ?: emit(&ev, &ctx);

        /* A machine name that is no hostname_t. */
        odd_host.hostname = "build_box";
        ev = base(LG_EVENT_EXIT);
        return r ?: emit(&ev, &odd_host);
}

static int emit_heartbeat(const char *degraded)
{
        AgentStatus st = {.mode = "host",
                          .version = "0.1.0",
                          .agent_id = "",
                          .degraded_reason = degraded,
                          .event_source = "ebpf",
                          .uptime_s = 5,
                          .seen = 10};
        json_object *o;
        int r = agent_status_heartbeat_record(&st, 1700000000123000ULL, 3, &o);

        if (r < 0)
                return r;
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return 0;
}

int main(void)
{
        int r = emit_events();

        r = r ?: emit_heartbeat("");
        r = r ?: emit_heartbeat("eBPF sensors unavailable: bpf_syscall: bpf() denied (EPERM)");
        return r < 0 ? 1 : 0;
}
