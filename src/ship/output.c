/* Local output.
 *
 * Records are appended to a fixed buffer and written with one write(2) per batch: per-event syscalls
 * would cost more than the sensors themselves. A file output is opened O_APPEND so several writers and
 * logrotate's copytruncate behave, and is reopened on SIGHUP for logrotate's create mode. */

#include "ship/output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "core/settings.h"
#include "util/io-util.h"
#include "util/log.h"
#include "util/macro.h"

#define OUTPUT_BATCH_SIZE (256 * 1024)

struct Output {
        OutputKind kind;
        char *path;
        int fd;
        size_t len;
        char buf[OUTPUT_BATCH_SIZE];
};

static int open_file(const char *path)
{
        return RET_NERRNO(
                open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0640));
}

int output_open(const char *spec, Output **ret)
{
        _cleanup_free_ char *path = NULL;
        Output *o;
        int r;

        r = parse_output(spec, &path);
        if (r < 0)
                return r;

        o = malloc(sizeof(*o));
        if (!o)
                return -ENOMEM;
        o->len = 0;
        o->fd = STDOUT_FILENO;
        o->kind = path ? OUTPUT_FILE : streq(spec, "api") ? OUTPUT_API : OUTPUT_STDOUT;
        o->path = TAKE_PTR(path);
        if (o->kind == OUTPUT_FILE) {
                o->fd = open_file(o->path);
                if (o->fd < 0) {
                        r = o->fd;
                        free(o->path);
                        free(o);
                        return r;
                }
        }
        *ret = o;
        return 0;
}

Output *output_free(Output *o)
{
        if (!o)
                return NULL;
        (void)output_flush(o);
        if (o->kind == OUTPUT_FILE)
                safe_close(o->fd);
        free(o->path);
        free(o);
        return NULL;
}

OutputKind output_kind(const Output *o)
{
        return o->kind;
}

const char *output_describe(const Output *o)
{
        return o->kind == OUTPUT_FILE ? o->path : "stdout";
}

int output_flush(Output *o)
{
        int r;

        if (o->len == 0)
                return 0;
        r = loop_write(o->fd, o->buf, o->len);
        o->len = 0;
        return r;
}

int output_write(Output *o, const char *data, size_t size)
{
        int r;

        if (size > sizeof(o->buf) - o->len) {
                r = output_flush(o);
                if (r < 0)
                        return r;
        }
        if (size > sizeof(o->buf))
                return loop_write(o->fd, data, size);
        memcpy(o->buf + o->len, data, size);
        o->len += size;
        return 0;
}

int output_reopen(Output *o)
{
        int fd, r;

        if (o->kind != OUTPUT_FILE)
                return 0;
        r = output_flush(o);
        if (r < 0)
                log_warning_errno(r, "Failed to flush %s before reopening, ignoring: %m", o->path);
        fd = open_file(o->path);
        if (fd < 0)
                return fd;
        safe_close(o->fd);
        o->fd = fd;
        return 0;
}
