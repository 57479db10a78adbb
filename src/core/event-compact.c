/* The compact line: time, what happened (padded to one column), who did it as COMM[PID], then the
 * details a person needs to judge it, in the order they would say it. Everything the JSON carries beyond
 * that (OCSF ids, gids, capabilities, cgroup ids) is left to the JSON output.
 *
 * The line goes to a terminal, so nothing from the traced process reaches it raw: a file name or argument
 * holding an escape sequence could otherwise rewrite the screen. Printable ASCII and valid UTF-8 pass
 * (C1 controls excepted); every other byte, and the backslash, is escaped. Pure: the time zone offset
 * and whether to colour come in the style. */

#include "core/event-compact.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/macro.h"

#define ANSI_RESET         "\033[0m"
#define ANSI_DIM           "\033[2m"
#define ANSI_RED           "\033[31m"
#define ANSI_GREEN         "\033[32m"
#define ANSI_YELLOW        "\033[33m"
#define ANSI_BLUE          "\033[34m"
#define ANSI_PURPLE        "\033[35m"
#define ANSI_CYAN          "\033[36m"

#define CONTAINER_ID_SHORT 12 /* as `docker ps` shows it */

typedef struct CompactWriter {
        StrBuf *b;
        const CompactStyle *style;
} CompactWriter;

static void cw_color(CompactWriter *w, const char *ansi)
{
        if (w->style->color)
                strbuf_puts(w->b, ansi);
}

static void cw_reset(CompactWriter *w)
{
        cw_color(w, ANSI_RESET);
}

_printf_(2, 3) static void cw_printf(CompactWriter *w, const char *format, ...)
{
        char buf[256];
        va_list ap;
        int n;

        va_start(ap, format);
        n = vsnprintf(buf, sizeof(buf), format, ap);
        va_end(ap);
        if (n > 0)
                strbuf_append(w->b, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void put_escaped_byte(CompactWriter *w, unsigned char c)
{
        static const char hex[] = "0123456789abcdef";
        char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 0xf]};

        strbuf_append(w->b, e, sizeof(e));
}

/* Bytes from a traced process: see the design note. */
static void put_text(CompactWriter *w, const char *s, size_t n)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0;

        while (i < n) {
                size_t run = i, len;

                while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '\\')
                        run++;
                strbuf_append(w->b, p + i, run - i);
                i = run;
                if (i >= n)
                        break;
                if (p[i] == '\\') {
                        strbuf_append(w->b, "\\\\", 2);
                        i++;
                        continue;
                }
                len = p[i] >= 0x80 ? utf8_sequence_len(p + i, n - i) : 0;
                /* U+0080..U+009F (C2 80..C2 9F) are controls too: CSI is U+009B. */
                if (len == 0 || (len == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)) {
                        put_escaped_byte(w, p[i]);
                        i++;
                        continue;
                }
                strbuf_append(w->b, p + i, len);
                i += len;
        }
}

static void put_time(CompactWriter *w, int64_t unix_s)
{
        time_t t = (time_t)(unix_s + w->style->utc_offset_s);
        struct tm tm;

        if (!gmtime_r(&t, &tm))
                tm = (struct tm){};
        cw_color(w, ANSI_DIM);
        cw_printf(w, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
        cw_reset(w);
        strbuf_putc(w->b, ' ');
}

/* The label in its column: five wide and a space, longer ones followed by one space. */
static void put_label(CompactWriter *w, const char *label, const char *ansi)
{
        size_t n = strlen(label);

        cw_color(w, ansi);
        strbuf_puts(w->b, label);
        cw_reset(w);
        for (size_t i = n; i < 5; i++)
                strbuf_putc(w->b, ' ');
        strbuf_putc(w->b, ' ');
}

static void put_actor(CompactWriter *w, const struct lg_event_header *h)
{
        put_text(w, h->comm, strnlen(h->comm, sizeof(h->comm)));
        cw_printf(w, "[%" PRIu32 "]", h->pid);
}

static void put_failure(CompactWriter *w, int error)
{
        const char *name = strerrorname_np(-error);

        strbuf_putc(w->b, ' ');
        cw_color(w, ANSI_RED);
        if (name)
                cw_printf(w, "failed: %s", name);
        else
                cw_printf(w, "failed: %d", -error);
        cw_reset(w);
}

/* argv[0] is in the path already; the rest, space separated. */
static void put_exec(CompactWriter *w, const LgEvent *ev)
{
        size_t start = 0;
        bool first = true;

        strbuf_puts(w->b, " -> ");
        if (ev->path)
                put_text(w, ev->path, ev->path_len);
        for (; ev->argv && start < ev->argv_size; first = false) {
                size_t len = strnlen(ev->argv + start, ev->argv_size - start);

                if (first && ev->path) {
                        start += len + 1;
                        continue;
                }
                if (!first || ev->path)
                        strbuf_putc(w->b, ' ');
                put_text(w, ev->argv + start, len);
                start += len + 1;
        }
        if (ev->exec.flags & (LG_EXEC_ARGV_TRUNCATED | LG_EXEC_FILENAME_TRUNCATED))
                strbuf_puts(w->b, " ...");
        cw_printf(w, "  uid=%" PRIu32, ev->hdr.uid);
}

static void put_exit(CompactWriter *w, const LgEvent *ev)
{
        int status = ev->exit.exit_code, sig = status & 0x7f;

        if (sig == 0) {
                cw_printf(w, " code=%d", (status >> 8) & 0xff);
                return;
        }
        if (sigabbrev_np(sig))
                cw_printf(w, " killed by SIG%s", sigabbrev_np(sig));
        else
                cw_printf(w, " killed by signal %d", sig);
        if (status & 0x80)
                strbuf_puts(w->b, " (core dumped)");
}

static unsigned cred_n_args(unsigned op)
{
        switch (op) {
        case LG_CRED_SETREUID:
        case LG_CRED_SETREGID:
                return 2;
        case LG_CRED_SETRESUID:
        case LG_CRED_SETRESGID:
                return 3;
        case LG_CRED_CAPSET:
                return 0;
        default:
                return 1;
        }
}

static void put_id_change(CompactWriter *w, const char *name, uint32_t old, uint32_t new)
{
        if (old != new)
                cw_printf(w, " %s %" PRIu32 "->%" PRIu32, name, old, new);
}

static void put_cred(CompactWriter *w, const LgEvent *ev)
{
        const struct lg_cred *c = &ev->cred;
        const struct lg_event_header *h = &ev->hdr;
        unsigned n = cred_n_args(c->op);

        if (c->op == 0) { /* the process connector: the new ids only */
                cw_printf(w, " uid=%" PRIu32 " euid=%" PRIu32, h->uid, h->euid);
                return;
        }
        cw_printf(w, " %s(", event_cred_op_to_string(c->op));
        for (unsigned i = 0; i < n; i++)
                cw_printf(w, i ? ", %" PRId32 : "%" PRId32, (int32_t)c->args[i]);
        strbuf_putc(w->b, ')');
        if (c->result < 0) {
                put_failure(w, c->result);
                return;
        }
        put_id_change(w, "uid", c->old_uid, h->uid);
        put_id_change(w, "euid", c->old_euid, h->euid);
        put_id_change(w, "gid", c->old_gid, h->gid);
        put_id_change(w, "egid", c->old_egid, h->egid);
        if (c->old_cap_effective != c->cap_effective)
                cw_printf(w, " caps 0x%" PRIx64 "->0x%" PRIx64, (uint64_t)c->old_cap_effective,
                          (uint64_t)c->cap_effective);
}

static void put_open_mode(CompactWriter *w, uint32_t flags)
{
        unsigned acc = flags & O_ACCMODE;

        strbuf_puts(w->b, acc == O_WRONLY ? " (write" : acc == O_RDWR ? " (read-write" : " (read");
        if (flags & O_CREAT)
                strbuf_puts(w->b, ", create");
        if (flags & O_TRUNC)
                strbuf_puts(w->b, ", truncate");
        strbuf_putc(w->b, ')');
}

static void put_file(CompactWriter *w, const LgEvent *ev)
{
        strbuf_putc(w->b, ' ');
        put_text(w, ev->path ?: "", ev->path_len);
        if (ev->file.op == LG_FILE_RENAME) {
                strbuf_puts(w->b, " -> ");
                put_text(w, ev->path2 ?: "", ev->path2_len);
        }
        if (ev->file.str_flags & (LG_FILE_PATH_TRUNCATED | LG_FILE_PATH2_TRUNCATED))
                strbuf_puts(w->b, " ...");
        if (ev->file.op == LG_FILE_OPEN)
                put_open_mode(w, ev->file.flags);
        if (ev->file.result < 0)
                put_failure(w, ev->file.result);
}

static void put_endpoint(CompactWriter *w, uint16_t family, const uint8_t addr[16], uint16_t port)
{
        char ip[INET6_ADDRSTRLEN] = "";

        (void)inet_ntop(family == 2 ? AF_INET : AF_INET6, addr, ip, sizeof(ip));
        if (family == 2)
                cw_printf(w, "%s:%u", ip, port);
        else
                cw_printf(w, "[%s]:%u", ip, port);
}

/* Source -> destination, as the JSON's src_endpoint and dst_endpoint: an accept's source is the peer. */
static void put_net(CompactWriter *w, const LgEvent *ev)
{
        const struct lg_net *n = &ev->net;
        bool outbound = n->op == LG_NET_CONNECT;

        strbuf_putc(w->b, ' ');
        put_endpoint(w, n->family, outbound ? n->laddr : n->raddr, outbound ? n->lport : n->rport);
        strbuf_puts(w->b, " -> ");
        put_endpoint(w, n->family, outbound ? n->raddr : n->laddr, outbound ? n->rport : n->lport);
        strbuf_puts(w->b, " tcp");
        if (outbound && n->result < 0 && n->result != -EINPROGRESS)
                put_failure(w, n->result);
}

static void put_name(CompactWriter *w, const LgEvent *ev)
{
        if (ev->name && ev->name_len > 0)
                put_text(w, ev->name, ev->name_len);
        else
                strbuf_puts(w->b, "(unnamed)");
}

static void put_details(CompactWriter *w, const LgEvent *ev)
{
        switch (ev->hdr.type) {
        case LG_EVENT_EXEC:
                put_exec(w, ev);
                break;
        case LG_EVENT_EXIT:
                put_exit(w, ev);
                break;
        case LG_EVENT_CRED:
                put_cred(w, ev);
                break;
        case LG_EVENT_FILE:
                put_file(w, ev);
                break;
        case LG_EVENT_NET:
                put_net(w, ev);
                break;
        case LG_EVENT_MODULE:
                strbuf_puts(w->b, " load ");
                put_name(w, ev);
                if (ev->module.taints)
                        cw_printf(w, " taints=0x%" PRIx32, ev->module.taints);
                break;
        case LG_EVENT_PTRACE:
                cw_printf(w, " %s -> pid %" PRIu32, ev->ptrace.request == 16 ? "attach" : "seize",
                          ev->ptrace.target_pid);
                break;
        case LG_EVENT_BPF_PROG:
                strbuf_puts(w->b, " load program ");
                put_name(w, ev);
                cw_printf(w, " (type %" PRIu32 ", %" PRIu32 " insns)", ev->bpf_prog.prog_type,
                          ev->bpf_prog.insn_cnt);
                break;
        default:
                break;
        }
}

static void label_of(const LgEvent *ev, const char **ret_label, const char **ret_color)
{
        static const char *const file_ops[_LG_FILE_OP_MAX] = {
                [LG_FILE_OPEN] = "open", [LG_FILE_UNLINK] = "unlink", [LG_FILE_RENAME] = "rename"};

        switch (ev->hdr.type) {
        case LG_EVENT_EXEC:
                *ret_label = "exec", *ret_color = ANSI_GREEN;
                return;
        case LG_EVENT_EXIT:
                *ret_label = "exit", *ret_color = ANSI_DIM;
                return;
        case LG_EVENT_CRED:
                *ret_label = "cred", *ret_color = ANSI_PURPLE;
                return;
        case LG_EVENT_FILE:
                *ret_label = file_ops[ev->file.op], *ret_color = ANSI_YELLOW;
                return;
        case LG_EVENT_NET:
                *ret_label = ev->net.op == LG_NET_CONNECT ? "connect" : "accept", *ret_color = ANSI_CYAN;
                return;
        case LG_EVENT_MODULE:
                *ret_label = "module", *ret_color = ANSI_RED;
                return;
        case LG_EVENT_PTRACE:
                *ret_label = "ptrace", *ret_color = ANSI_RED;
                return;
        default:
                *ret_label = "bpf", *ret_color = ANSI_RED;
                return;
        }
}

static int finish_line(StrBuf *out, size_t start)
{
        int r;

        strbuf_putc(out, '\n');
        r = strbuf_error(out);
        if (r < 0) {
                /* Leave the buffer as it was, usable for the next line. */
                strbuf_truncate(out, start);
                out->oom = false;
        }
        return r;
}

int event_to_compact(const LgEvent *ev, const EventContext *ctx, const CompactStyle *style, StrBuf *out)
{
        CompactWriter w = {.b = out, .style = style};
        const char *label, *color;
        unsigned class_uid, activity;
        size_t start = out->len;
        int64_t ns;
        int r;

        /* The same events as the JSON encoder, no more: an unknown type or op is refused. */
        r = event_ocsf_class(ev, &class_uid, &activity);
        if (r < 0)
                return r;
        ns = (int64_t)ev->hdr.ts_ns + ctx->boot_to_realtime_ns;
        label_of(ev, &label, &color);
        put_time(&w, ns / 1000000000LL);
        put_label(&w, label, color);
        put_actor(&w, &ev->hdr);
        put_details(&w, ev);
        if (ev->container_id) {
                strbuf_puts(out, ev->hdr.type == LG_EVENT_EXEC ? " ctr=" : "  ctr=");
                put_text(&w, ev->container_id, strnlen(ev->container_id, CONTAINER_ID_SHORT));
        }
        return finish_line(out, start);
}

int status_to_compact(const CompactStatus *st, const CompactStyle *style, StrBuf *out)
{
        CompactWriter w = {.b = out, .style = style};
        size_t start = out->len;

        put_time(&w, st->time_ms / 1000);
        put_label(&w, "status", ANSI_BLUE);
        strbuf_puts(out, "linuxguard ");
        put_text(&w, st->mode ?: "", st->mode ? strlen(st->mode) : 0);
        cw_printf(&w, ", up %" PRIu64 "s, %" PRIu64 " events, %" PRIu64 " lost", st->uptime_s, st->events,
                  st->ring_drops);
        if (st->degraded) {
                strbuf_puts(out, ", ");
                cw_color(&w, ANSI_RED);
                strbuf_puts(out, "degraded: ");
                put_text(&w, st->degraded, strlen(st->degraded));
                cw_reset(&w);
        }
        return finish_line(out, start);
}
