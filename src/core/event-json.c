/* OCSF-aligned JSON, written by hand into a reused buffer: the event rate can be hundreds of thousands per
 * second, so no DOM, no allocation per event, and printable ASCII runs are copied in one piece. A path can
 * hold any byte, so strings are validated as UTF-8 and escaped. Linux details that OCSF has no attribute for
 * go into "unmapped", as OCSF prescribes. The mapping is documented in linuxguard-events(7). */

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "core/event-json.h"
#include "util/macro.h"

enum {
        CATEGORY_SYSTEM = 1,
        CATEGORY_NETWORK = 4,
        CLASS_FILE_SYSTEM = 1001,
        CLASS_KERNEL_EXTENSION = 1002,
        CLASS_KERNEL = 1003,
        CLASS_PROCESS = 1007,
        CLASS_NETWORK = 4001,
        SEVERITY_INFORMATIONAL = 1,
        SEVERITY_MEDIUM = 3,
        STATUS_UNKNOWN = 0,
        STATUS_SUCCESS = 1,
        STATUS_FAILURE = 2,
        ACTIVITY_OTHER = 99,
        DEVICE_TYPE_UNKNOWN = 0,
        FILE_TYPE_UNKNOWN = 0,
        FILE_TYPE_REGULAR = 1,
};

/* ---- JSON writing ------------------------------------------------------------------------------------ */

typedef struct JsonWriter {
        StrBuf *b;
        bool comma; /* a value was written at this level: the next key needs a comma */
} JsonWriter;

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 if invalid: no overlongs, no surrogates,
 * nothing above U+10FFFF. */
size_t utf8_sequence_len(const unsigned char *s, size_t n)
{
        size_t len;
        unsigned cp;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                len = 2, cp = s[0] & 0x1f;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                len = 3, cp = s[0] & 0x0f;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                len = 4, cp = s[0] & 0x07;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

static bool json_plain(unsigned char c)
{
        return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

static void json_escape(StrBuf *out, const char *s, size_t n)
{
        static const char hex[] = "0123456789abcdef";
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0;

        while (i < n) {
                size_t run = i, len;

                while (run < n && json_plain(p[run]))
                        run++;
                strbuf_append(out, p + i, run - i);
                i = run;
                if (i >= n)
                        break;

                switch (p[i]) {
                case '"':
                        strbuf_append(out, "\\\"", 2);
                        break;
                case '\\':
                        strbuf_append(out, "\\\\", 2);
                        break;
                case '\n':
                        strbuf_append(out, "\\n", 2);
                        break;
                case '\r':
                        strbuf_append(out, "\\r", 2);
                        break;
                case '\t':
                        strbuf_append(out, "\\t", 2);
                        break;
                case '\b':
                        strbuf_append(out, "\\b", 2);
                        break;
                case '\f':
                        strbuf_append(out, "\\f", 2);
                        break;
                default:
                        if (p[i] < 0x20 || p[i] == 0x7f) {
                                char u[6] = {'\\', 'u', '0', '0', hex[p[i] >> 4], hex[p[i] & 0xf]};
                                strbuf_append(out, u, sizeof(u));
                                break;
                        }
                        len = utf8_sequence_len(p + i, n - i);
                        if (len == 0) {
                                strbuf_append(out, "\\ufffd", 6);
                                break;
                        }
                        strbuf_append(out, p + i, len);
                        i += len;
                        continue;
                }
                i++;
        }
}

void json_put_string(StrBuf *out, const char *s, size_t n)
{
        strbuf_putc(out, '"');
        json_escape(out, s, n);
        strbuf_putc(out, '"');
}

/* The hottest writer (a dozen keys per event): one reservation, then plain stores. */
static void jw_key(JsonWriter *w, const char *key)
{
        size_t n = key ? strlen(key) : 0;
        char *p;

        if (strbuf_reserve(w->b, n + 4) < 0)
                return;
        p = w->b->data + w->b->len;
        if (w->comma)
                *p++ = ',';
        w->comma = true;
        if (key) {
                *p++ = '"';
                memcpy(p, key, n);
                p += n;
                *p++ = '"';
                *p++ = ':';
        }
        *p = 0;
        w->b->len = (size_t)(p - w->b->data);
}

static void jw_open(JsonWriter *w, const char *key)
{
        jw_key(w, key);
        strbuf_putc(w->b, '{');
        w->comma = false;
}

static void jw_open_array(JsonWriter *w, const char *key)
{
        jw_key(w, key);
        strbuf_putc(w->b, '[');
        w->comma = false;
}

static void jw_close(JsonWriter *w)
{
        strbuf_putc(w->b, '}');
        w->comma = true;
}

static void jw_close_array(JsonWriter *w)
{
        strbuf_putc(w->b, ']');
        w->comma = true;
}

static void jw_u64(JsonWriter *w, const char *key, unsigned long long v)
{
        jw_key(w, key);
        strbuf_put_u64(w->b, v);
}

static void jw_i64(JsonWriter *w, const char *key, long long v)
{
        jw_key(w, key);
        strbuf_put_i64(w->b, v);
}

static void jw_bool(JsonWriter *w, const char *key, bool v)
{
        jw_key(w, key);
        strbuf_puts(w->b, v ? "true" : "false");
}

static void jw_strn(JsonWriter *w, const char *key, const char *s, size_t n)
{
        jw_key(w, key);
        json_put_string(w->b, s, n);
}

static void jw_str(JsonWriter *w, const char *key, const char *s)
{
        jw_strn(w, key, s, strlen(s));
}

/* OCSF user.uid is a string. */
static void jw_uid_string(JsonWriter *w, const char *key, uint32_t uid)
{
        jw_key(w, key);
        strbuf_putc(w->b, '"');
        strbuf_put_u64(w->b, uid);
        strbuf_putc(w->b, '"');
}

/* ---- OCSF objects ------------------------------------------------------------------------------------ */

static const char *path_basename(const char *path, size_t len, size_t *ret_len)
{
        const char *slash = memrchr(path, '/', len);
        const char *base = slash ? slash + 1 : path;

        *ret_len = len - (size_t)(base - path);
        return base;
}

/* OCSF requires file.type_id: what the record says about the inode, 0 (Unknown) when it says nothing. */
static void put_file_of_type(JsonWriter *w, const char *key, const char *path, size_t len, unsigned type_id)
{
        size_t base_len;
        const char *base = path_basename(path, len, &base_len);

        jw_open(w, key);
        jw_strn(w, "name", base, base_len);
        jw_strn(w, "path", path, len);
        jw_u64(w, "type_id", type_id);
        jw_close(w);
}

static void put_file(JsonWriter *w, const char *key, const char *path, size_t len)
{
        put_file_of_type(w, key, path, len, FILE_TYPE_UNKNOWN);
}

/* cmd_line: the NUL-separated argv joined with spaces. */
static void put_cmd_line(JsonWriter *w, const char *argv, size_t size)
{
        jw_key(w, "cmd_line");
        strbuf_putc(w->b, '"');
        for (size_t start = 0; start < size;) {
                size_t len = strnlen(argv + start, size - start);

                if (start > 0)
                        strbuf_putc(w->b, ' ');
                json_escape(w->b, argv + start, len);
                start += len + 1;
        }
        strbuf_putc(w->b, '"');
}

/* What the header does not know, as its source leaves it: a uid of (uid_t)-1, which no task can have, an
 * empty comm, and parent pid 0 (the process connector could not read /proc in time). */
static bool header_has_uid(const struct lg_event_header *h)
{
        return h->uid != UINT32_MAX;
}

static bool header_has_name(const struct lg_event_header *h)
{
        return h->comm[0] != 0;
}

static bool header_has_parent(const struct lg_event_header *h)
{
        return h->ppid != 0;
}

/* The task that caused the event, from the record header; exec events add what the record carries. What
 * is unknown is left out (put_unmapped() lists it). The binary a process runs is a regular file. */
static void put_process(JsonWriter *w, const char *key, const LgEvent *ev, const EventContext *ctx)
{
        const struct lg_event_header *h = &ev->hdr;
        bool exec = h->type == LG_EVENT_EXEC;
        const char *cmd_line = exec ? NULL : ctx->actor_cmd_line;
        const char *exe = exec ? NULL : ctx->actor_exe;

        jw_open(w, key);
        jw_u64(w, "pid", h->pid);
        jw_u64(w, "tid", h->tid);
        if (header_has_name(h))
                jw_strn(w, "name", h->comm, strnlen(h->comm, sizeof(h->comm)));
        if (exec && ev->argv)
                put_cmd_line(w, ev->argv, ev->argv_size);
        else if (cmd_line)
                jw_str(w, "cmd_line", cmd_line);
        if (exec && ev->path)
                put_file_of_type(w, "file", ev->path, ev->path_len, FILE_TYPE_REGULAR);
        else if (exe)
                put_file_of_type(w, "file", exe, strlen(exe), FILE_TYPE_REGULAR);
        if (header_has_uid(h)) {
                jw_open(w, "user");
                jw_uid_string(w, "uid", h->uid);
                jw_close(w);
        }
        if (header_has_parent(h)) {
                jw_open(w, "parent_process");
                jw_u64(w, "pid", h->ppid);
                jw_close(w);
        }
        /* OCSF's container profile puts the container in the process object. */
        if (ev->container_id) {
                jw_open(w, "container");
                jw_str(w, "uid", ev->container_id);
                jw_close(w);
        }
        jw_close(w);
}

static void put_endpoint(JsonWriter *w, const char *key, uint16_t family, const uint8_t addr[16],
                         uint16_t port)
{
        char ip[INET6_ADDRSTRLEN] = "";

        (void)inet_ntop(family == 2 ? AF_INET : AF_INET6, addr, ip, sizeof(ip));
        jw_open(w, key);
        jw_str(w, "ip", ip);
        jw_u64(w, "port", port);
        jw_close(w);
}

static const char *const cred_op_names[_LG_CRED_OP_MAX] = {
        [LG_CRED_SETUID] = "setuid",       [LG_CRED_SETREUID] = "setreuid",
        [LG_CRED_SETRESUID] = "setresuid", [LG_CRED_SETFSUID] = "setfsuid",
        [LG_CRED_SETGID] = "setgid",       [LG_CRED_SETREGID] = "setregid",
        [LG_CRED_SETRESGID] = "setresgid", [LG_CRED_SETFSGID] = "setfsgid",
        [LG_CRED_CAPSET] = "capset",
};

const char *event_cred_op_to_string(unsigned op)
{
        return op > 0 && op < _LG_CRED_OP_MAX ? cred_op_names[op] : NULL;
}

int event_ocsf_class(const LgEvent *ev, unsigned *ret_class_uid, unsigned *ret_activity_id)
{
        unsigned class_uid, activity;

        switch (ev->hdr.type) {
        case LG_EVENT_EXEC:
                class_uid = CLASS_PROCESS, activity = 1; /* Launch */
                break;
        case LG_EVENT_EXIT:
                class_uid = CLASS_PROCESS, activity = 2; /* Terminate */
                break;
        case LG_EVENT_PTRACE:
                class_uid = CLASS_PROCESS, activity = 3; /* Open: gains access to another process */
                break;
        case LG_EVENT_CRED:
                if (ev->source == LG_EVENT_SOURCE_PROC_CONNECTOR && ev->cred.op == 0) {
                        /* PROC_EVENT_UID says the uids changed, not which syscall changed them. */
                        class_uid = CLASS_PROCESS, activity = 5;
                        break;
                }
                if (ev->cred.op == 0 || ev->cred.op >= _LG_CRED_OP_MAX)
                        return -EINVAL;
                class_uid = CLASS_PROCESS;
                activity = ev->cred.op <= LG_CRED_SETFSUID ? 5 : ACTIVITY_OTHER; /* Set User ID */
                break;
        case LG_EVENT_FILE:
                class_uid = CLASS_FILE_SYSTEM;
                if (ev->file.op == LG_FILE_OPEN)
                        activity = 14;
                else if (ev->file.op == LG_FILE_UNLINK)
                        activity = 4; /* Delete */
                else if (ev->file.op == LG_FILE_RENAME)
                        activity = 5;
                else
                        return -EINVAL;
                break;
        case LG_EVENT_NET:
                if (ev->net.op != LG_NET_CONNECT && ev->net.op != LG_NET_ACCEPT)
                        return -EINVAL;
                class_uid = CLASS_NETWORK, activity = 1; /* Open */
                break;
        case LG_EVENT_MODULE:
                class_uid = CLASS_KERNEL_EXTENSION, activity = 1; /* Load */
                break;
        case LG_EVENT_BPF_PROG:
                class_uid = CLASS_KERNEL, activity = 1; /* Create */
                break;
        default:
                return -EINVAL;
        }
        *ret_class_uid = class_uid;
        *ret_activity_id = activity;
        return 0;
}

static unsigned event_severity(const LgEvent *ev)
{
        switch (ev->hdr.type) {
        case LG_EVENT_PTRACE:
        case LG_EVENT_MODULE:
        case LG_EVENT_BPF_PROG:
                return SEVERITY_MEDIUM;
        default:
                return SEVERITY_INFORMATIONAL;
        }
}

static unsigned status_from_result(int32_t result)
{
        return result >= 0 ? STATUS_SUCCESS : STATUS_FAILURE;
}

/* Network Activity has device and actor from the host profile only; the container profile brings
 * process.container. OCSF allows a profile's attributes only where metadata.profiles names it. */
static void put_profiles(JsonWriter *w, const LgEvent *ev, unsigned class_uid)
{
        bool host = class_uid == CLASS_NETWORK, container = ev->container_id != NULL;

        if (!host && !container)
                return;
        jw_open_array(w, "profiles");
        if (host)
                jw_str(w, NULL, "host");
        if (container)
                jw_str(w, NULL, "container");
        jw_close_array(w);
}

static bool ascii_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* OCSF's hostname_t: dot-separated labels of letters, digits and inner hyphens. */
static bool hostname_valid(const char *s)
{
        size_t label = 0;

        for (const char *p = s;; p++) {
                if (*p == '.' || *p == 0) {
                        if (label == 0 || p[-1] == '-')
                                return false;
                        if (*p == 0)
                                return true;
                        label = 0;
                        continue;
                }
                if (!(ascii_alnum(*p) || (*p == '-' && label > 0)))
                        return false;
                label++;
        }
}

/* The agent cannot tell a server from a laptop: type Unknown. A name that is not a valid hostname_t (an
 * underscore, say) is still the machine's name. */
static void put_device(JsonWriter *w, const char *hostname)
{
        jw_open(w, "device");
        jw_str(w, hostname_valid(hostname) ? "hostname" : "name", hostname);
        jw_u64(w, "type_id", DEVICE_TYPE_UNKNOWN);
        jw_close(w);
}

static void put_header_fields(JsonWriter *w, const LgEvent *ev, const EventContext *ctx, unsigned class_uid,
                              unsigned activity)
{
        int64_t realtime_ns = (int64_t)ev->hdr.ts_ns + ctx->boot_to_realtime_ns;

        jw_u64(w, "class_uid", class_uid);
        jw_u64(w, "category_uid", class_uid / 1000);
        jw_u64(w, "activity_id", activity);
        if (activity == ACTIVITY_OTHER)
                jw_str(w, "activity_name",
                       ev->hdr.type == LG_EVENT_CRED && ev->cred.op == LG_CRED_CAPSET ? "Set Capabilities"
                                                                                      : "Set Group ID");
        jw_u64(w, "type_uid", (unsigned long long)class_uid * 100 + activity);
        jw_u64(w, "severity_id", event_severity(ev));
        jw_i64(w, "time", realtime_ns > 0 ? realtime_ns / 1000000 : 0);

        jw_open(w, "metadata");
        jw_str(w, "version", EVENT_OCSF_VERSION);
        jw_open(w, "product");
        jw_str(w, "name", "linuxguard");
        jw_str(w, "vendor_name", "linuxguard");
        if (ctx->product_version)
                jw_str(w, "version", ctx->product_version);
        jw_close(w);
        jw_u64(w, "sequence", ev->hdr.seq);
        if (ctx->stream_id)
                jw_str(w, "correlation_uid", ctx->stream_id);
        put_profiles(w, ev, class_uid);
        jw_close(w);

        if (ctx->hostname)
                put_device(w, ctx->hostname);
        jw_open(w, "actor");
        put_process(w, "process", ev, ctx);
        jw_close(w);
}

/* ---- per class -------------------------------------------------------------------------------------- */

static void put_class_fields(JsonWriter *w, const LgEvent *ev, const EventContext *ctx)
{
        switch (ev->hdr.type) {
        case LG_EVENT_EXEC:
        case LG_EVENT_CRED:
                put_process(w, "process", ev, ctx);
                if (ev->hdr.type == LG_EVENT_CRED)
                        jw_u64(w, "status_id", status_from_result(ev->cred.result));
                break;
        case LG_EVENT_EXIT:
                put_process(w, "process", ev, ctx);
                jw_i64(w, "exit_code", (ev->exit.exit_code >> 8) & 0xff);
                break;
        case LG_EVENT_PTRACE:
                jw_open(w, "process");
                jw_u64(w, "pid", ev->ptrace.target_pid);
                jw_close(w);
                break;
        case LG_EVENT_FILE:
                put_file(w, "file", ev->path, ev->path_len);
                if (ev->path2)
                        put_file(w, "file_result", ev->path2, ev->path2_len);
                jw_u64(w, "status_id", status_from_result(ev->file.result));
                break;
        case LG_EVENT_NET: {
                bool outbound = ev->net.op == LG_NET_CONNECT;

                jw_open(w, "connection_info");
                jw_u64(w, "direction_id", outbound ? 2 : 1);
                jw_u64(w, "protocol_num", ev->net.protocol);
                jw_str(w, "protocol_name", "tcp");
                jw_u64(w, "protocol_ver_id", ev->net.family == 2 ? 4 : 6);
                jw_close(w);
                put_endpoint(w, "src_endpoint", ev->net.family, outbound ? ev->net.laddr : ev->net.raddr,
                             outbound ? ev->net.lport : ev->net.rport);
                put_endpoint(w, "dst_endpoint", ev->net.family, outbound ? ev->net.raddr : ev->net.laddr,
                             outbound ? ev->net.rport : ev->net.lport);
                jw_u64(w, "status_id", ev->net.result == 0 || !outbound ? STATUS_SUCCESS : STATUS_UNKNOWN);
                break;
        }
        case LG_EVENT_MODULE:
                jw_open(w, "driver");
                jw_open(w, "file");
                jw_strn(w, "name", ev->name ?: "", ev->name_len);
                jw_u64(w, "type_id", FILE_TYPE_UNKNOWN);
                jw_close(w);
                jw_close(w);
                break;
        case LG_EVENT_BPF_PROG:
                jw_open(w, "kernel");
                jw_strn(w, "name", ev->name ?: "", ev->name_len);
                jw_u64(w, "type_id", ACTIVITY_OTHER);
                jw_str(w, "type", "bpf_program");
                jw_close(w);
                break;
        default:
                break;
        }
}

static void put_unmapped_type(JsonWriter *w, const LgEvent *ev)
{
        switch (ev->hdr.type) {
        case LG_EVENT_EXEC:
                if (ev->exec.flags & LG_EXEC_FILENAME_TRUNCATED)
                        jw_bool(w, "path_truncated", true);
                if (ev->exec.flags & LG_EXEC_ARGV_TRUNCATED)
                        jw_bool(w, "argv_truncated", true);
                break;
        case LG_EVENT_EXIT:
                jw_i64(w, "wait_status", ev->exit.exit_code);
                jw_i64(w, "signal", ev->exit.exit_code & 0x7f);
                jw_bool(w, "core_dumped", ev->exit.exit_code & 0x80);
                break;
        case LG_EVENT_CRED:
                if (ev->cred.op == 0)
                        break; /* process connector: only the new uids, already in the header */
                jw_str(w, "op", cred_op_names[ev->cred.op]);
                jw_open_array(w, "args");
                for (size_t i = 0; i < ELEMENTSOF(ev->cred.args); i++)
                        jw_u64(w, NULL, ev->cred.args[i]);
                jw_close_array(w);
                jw_i64(w, "result", ev->cred.result);
                jw_u64(w, "old_uid", ev->cred.old_uid);
                jw_u64(w, "old_euid", ev->cred.old_euid);
                jw_u64(w, "old_gid", ev->cred.old_gid);
                jw_u64(w, "old_egid", ev->cred.old_egid);
                jw_u64(w, "old_cap_effective", ev->cred.old_cap_effective);
                jw_u64(w, "cap_effective", ev->cred.cap_effective);
                jw_u64(w, "cap_permitted", ev->cred.cap_permitted);
                break;
        case LG_EVENT_FILE:
                jw_i64(w, "result", ev->file.result);
                jw_u64(w, "flags", ev->file.flags);
                if (ev->file.op == LG_FILE_OPEN)
                        jw_u64(w, "mode", ev->file.mode);
                if (ev->file.str_flags & (LG_FILE_PATH_TRUNCATED | LG_FILE_PATH2_TRUNCATED))
                        jw_bool(w, "path_truncated", true);
                if (ev->file.str_flags & (LG_FILE_PATH_RESOLVED | LG_FILE_PATH2_RESOLVED))
                        jw_bool(w, "path_resolved", true);
                break;
        case LG_EVENT_NET:
                jw_i64(w, "result", ev->net.result);
                break;
        case LG_EVENT_MODULE:
                jw_u64(w, "taints", ev->module.taints);
                break;
        case LG_EVENT_PTRACE:
                jw_str(w, "ptrace_request", ev->ptrace.request == 16 ? "attach" : "seize");
                break;
        case LG_EVENT_BPF_PROG:
                jw_u64(w, "bpf_prog_type", ev->bpf_prog.prog_type);
                jw_u64(w, "insn_cnt", ev->bpf_prog.insn_cnt);
                break;
        default:
                break;
        }
}

/* The process connector reads the process from /proc after the fact; a short-lived one is gone by then.
 * Its events name the attributes of the (actor) process left out for that reason. */
static void put_unmapped_missing(JsonWriter *w, const LgEvent *ev)
{
        const struct lg_event_header *h = &ev->hdr;
        bool exec = h->type == LG_EVENT_EXEC;
        const char *missing[5];
        size_t n = 0;

        if (!header_has_name(h))
                missing[n++] = "name";
        if (!header_has_uid(h))
                missing[n++] = "user";
        if (!header_has_parent(h))
                missing[n++] = "parent_process";
        if (exec && !ev->argv)
                missing[n++] = "cmd_line";
        if (exec && !ev->path)
                missing[n++] = "file";
        if (n == 0)
                return;
        jw_open_array(w, "missing");
        for (size_t i = 0; i < n; i++)
                jw_str(w, NULL, missing[i]);
        jw_close_array(w);
        jw_str(w, "missing_reason", "the process had left /proc before the agent could read it");
}

static void put_unmapped(JsonWriter *w, const LgEvent *ev)
{
        const struct lg_event_header *h = &ev->hdr;

        jw_open(w, "unmapped");
        if (h->euid != UINT32_MAX)
                jw_u64(w, "euid", h->euid);
        if (h->gid != UINT32_MAX)
                jw_u64(w, "gid", h->gid);
        if (h->egid != UINT32_MAX)
                jw_u64(w, "egid", h->egid);
        if (h->auid != UINT32_MAX)
                jw_u64(w, "auid", h->auid);
        if (h->cgroup_id != 0) /* 0 is no cgroup's id: the process connector could not read it */
                jw_u64(w, "cgroup_id", h->cgroup_id);
        if (ev->source == LG_EVENT_SOURCE_PROC_CONNECTOR) {
                jw_str(w, "source", "proc_connector");
                put_unmapped_missing(w, ev);
        }
        put_unmapped_type(w, ev);
        jw_close(w);
}

int event_to_json(const LgEvent *ev, const EventContext *ctx, StrBuf *out)
{
        JsonWriter w = {.b = out};
        unsigned class_uid, activity;
        size_t start = out->len;
        int r;

        r = event_ocsf_class(ev, &class_uid, &activity);
        if (r < 0)
                return r;
        jw_open(&w, NULL);
        put_header_fields(&w, ev, ctx, class_uid, activity);
        put_class_fields(&w, ev, ctx);
        put_unmapped(&w, ev);
        jw_close(&w);
        strbuf_putc(out, '\n');

        r = strbuf_error(out);
        if (r < 0) {
                /* Leave the buffer as it was, usable for the next event. */
                strbuf_truncate(out, start);
                out->oom = false;
        }
        return r;
}
