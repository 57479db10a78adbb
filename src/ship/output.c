/* The local sink.
 *
 * A burst of records is collected in one buffer and written with one write(2) when it ends: per-event
 * syscalls would cost more than the sensors themselves. A failed write drops that burst (and says so) and
 * the next one tries again. A file output is opened O_APPEND so several writers and logrotate's
 * copytruncate behave, and is reopened on SIGHUP for logrotate's create mode. Every record handed to the
 * sink counts as sent: there is no queue, so nothing is pending between bursts.
 *
 * A person watching a terminal gets the compact line (event-compact.h); a file or a pipe gets JSON, which
 * is what programs read. The choice is made when the target is opened, and again when it changes. */

#include "ship/output.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/event-compact.h"
#include "core/settings.h"
#include "util/io-util.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/strbuf.h"

typedef struct Output {
        Sink sink;
        char *path; /* NULL: stdout */
        int fd;
        StrBuf batch;
        SinkCounters counters;
        const char *format; /* "json", "compact", NULL: auto, by the target */
        bool compact;
        CompactStyle style;
} Output;

#define OUTPUT(s) ((Output *)(s))

/* O_NOFOLLOW: a planted symlink would redirect the events. A file another user created beforehand would
 * let them read or rewrite the events: only root's or our own is used (/dev/null and friends are root's). */
static int open_file(const char *path)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0640);
        if (fd < 0)
                return errno == ELOOP ? log_error_errno(ELOOP,
                                                        "Refusing the output %s: it is a symbolic link, "
                                                        "which the agent does not follow. Name its target "
                                                        "instead.",
                                                        path)
                                      : -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_uid != 0 && st.st_uid != geteuid())
                return log_error_errno(EPERM,
                                       "Refusing the output %s: it is owned by uid %u, who could read or "
                                       "rewrite the events. Remove it, or chown it to uid %u.",
                                       path, (unsigned)st.st_uid, (unsigned)geteuid());
        return TAKE_FD(fd);
}

/* The path (NULL for stdout) and the fd a spec names. */
static int open_target(const char *spec, char **ret_path, int *ret_fd)
{
        _cleanup_free_ char *path = NULL;
        int r;

        if (streq(spec, "api"))
                return -EINVAL;
        r = parse_output(spec, &path);
        if (r < 0)
                return r;
        *ret_fd = path ? open_file(path) : STDOUT_FILENO;
        if (*ret_fd < 0)
                return *ret_fd;
        *ret_path = TAKE_PTR(path);
        return 0;
}

static int64_t local_utc_offset(void)
{
        time_t t = time(NULL);
        struct tm tm;

        return localtime_r(&t, &tm) ? (int64_t)tm.tm_gmtoff : 0;
}

static void output_choose_format(Output *o)
{
        bool tty = isatty(o->fd) > 0;
        const char *no_color = getenv("NO_COLOR");

        o->compact = o->format ? streq(o->format, "compact") : tty;
        o->style = (CompactStyle){
                .color = o->compact && tty && isempty(no_color),
                .utc_offset_s = local_utc_offset(),
        };
}

static void output_close(Output *o)
{
        if (o->path)
                safe_close(o->fd);
        o->path = mfree(o->path);
}

static const char *output_describe(const Sink *s)
{
        return OUTPUT(s)->path ?: "stdout";
}

static int output_flush(Sink *s)
{
        Output *o = OUTPUT(s);
        int r;

        if (o->batch.len == 0)
                return 0;
        r = strbuf_error(&o->batch);
        if (r >= 0)
                r = loop_write(o->fd, o->batch.data, o->batch.len);
        strbuf_reset(&o->batch);
        return r;
}

static int output_encode(Sink *s, const LgEvent *ev, const EventContext *ctx, StrBuf *out)
{
        Output *o = OUTPUT(s);

        if (o->compact)
                return event_to_compact(ev, ctx, &o->style, out);
        return event_to_json(ev, ctx, out);
}

/* A heartbeat record (agent-status.h) as its compact line. -EINVAL for a record that is not one. */
static int heartbeat_to_compact(Output *o, const char *line, size_t size)
{
        json_tokener *tok = json_tokener_new();
        json_object *j = NULL, *u, *v;
        CompactStatus st = {};
        int r = -EINVAL;

        if (!tok)
                return -ENOMEM;
        if (size <= INT_MAX)
                j = json_tokener_parse_ex(tok, line, (int)size);
        json_tokener_free(tok);
        if (!j)
                return -EINVAL;
        /* An OCSF Application Lifecycle event: the record's own fields are in "unmapped", the time not. */
        if (!json_object_object_get_ex(j, "unmapped", &u) || !json_object_is_type(u, json_type_object))
                u = j;
        if (json_object_object_get_ex(u, "type", &v) && streq_ptr(json_object_get_string(v), "heartbeat")) {
                if (json_object_object_get_ex(j, "time", &v))
                        st.time_ms = json_object_get_int64(v);
                if (json_object_object_get_ex(u, "mode", &v))
                        st.mode = json_object_get_string(v);
                if (json_object_object_get_ex(u, "uptime_s", &v))
                        st.uptime_s = (uint64_t)json_object_get_int64(v);
                if (json_object_object_get_ex(u, "events", &v))
                        st.events = (uint64_t)json_object_get_int64(v);
                if (json_object_object_get_ex(u, "ring_drops", &v))
                        st.ring_drops = (uint64_t)json_object_get_int64(v);
                if (json_object_object_get_ex(u, "degraded", &v) && json_object_is_type(v, json_type_string))
                        st.degraded = json_object_get_string(v);
                o->style.utc_offset_s = local_utc_offset(); /* follows a DST change within a heartbeat */
                r = status_to_compact(&st, &o->style, &o->batch);
        }
        json_object_put(j);
        return r;
}

static int output_submit(Sink *s, uint64_t seq, const char *line, size_t size)
{
        Output *o = OUTPUT(s);

        o->counters.seen++;
        o->counters.sent++;
        strbuf_append(&o->batch, line, size);
        return 0;
}

static void output_batch_end(Sink *s)
{
        int r = output_flush(s);

        if (r < 0)
                log_warning_errno(r, "Failed to write events to %s, dropping this batch: %m",
                                  output_describe(s));
}

static int output_write_status(Sink *s, const char *line, size_t size)
{
        Output *o = OUTPUT(s);

        if (!o->compact || heartbeat_to_compact(o, line, size) < 0) {
                strbuf_append(&o->batch, line, size);
                strbuf_putc(&o->batch, '\n');
        }
        return output_flush(s);
}

static int output_reopen(Sink *s)
{
        Output *o = OUTPUT(s);
        int fd, r;

        if (!o->path)
                return 0;
        r = output_flush(s);
        if (r < 0)
                log_warning_errno(r, "Failed to flush %s before reopening, ignoring: %m", o->path);
        fd = open_file(o->path);
        if (fd < 0)
                return fd;
        safe_close(o->fd);
        o->fd = fd;
        output_choose_format(o);
        return 0;
}

static int output_retarget(Sink *s, const char *spec)
{
        Output *o = OUTPUT(s);
        char *path = NULL;
        int fd, r;

        r = open_target(spec, &path, &fd);
        if (r == -EINVAL && streq(spec, "api"))
                return -EOPNOTSUPP; /* the shipper is a sink of its own, set up at start */
        if (r < 0)
                return r;
        (void)output_flush(s);
        output_close(o);
        o->path = path;
        o->fd = fd;
        output_choose_format(o);
        return 0;
}

static void output_get_counters(const Sink *s, SinkCounters *ret)
{
        *ret = OUTPUT(s)->counters;
}

static void output_free(Sink *s)
{
        Output *o = OUTPUT(s);

        (void)output_flush(s);
        output_close(o);
        strbuf_done(&o->batch);
        free(o);
}

static const SinkOps output_ops = {
        .remote = false,
        .encode = output_encode,
        .submit = output_submit,
        .batch_end = output_batch_end,
        .flush = output_flush,
        .write_status = output_write_status,
        .reopen = output_reopen,
        .retarget = output_retarget,
        .get_counters = output_get_counters,
        .describe = output_describe,
        .free = output_free,
};

int output_sink_open(const char *spec, const char *format, Sink **ret)
{
        Output *o;
        int r;

        if (format && !streq(format, "auto") && !streq(format, "json") && !streq(format, "compact"))
                return -EINVAL;
        o = calloc(1, sizeof(*o));
        if (!o)
                return -ENOMEM;
        o->sink.ops = &output_ops;
        r = open_target(spec, &o->path, &o->fd);
        if (r < 0)
                return free(o), r;
        o->format = !format || streq(format, "auto") ? NULL : streq(format, "compact") ? "compact" : "json";
        output_choose_format(o);
        *ret = &o->sink;
        return 0;
}
