/* The container hardening doc hands secrets over as files on a tmpfs, mode 0400. We enforce exactly that
 * shape: a symlink could redirect us to a file somebody else controls, and a group- or world-readable
 * file means the token has already leaked to every other uid in the container. The content is read
 * into a buffer that is wiped on every path out and never appears in a message. */

#include "identity/token-source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "util/io-util.h"
#include "util/macro.h"

static int refuse_stat(const char *path, const struct stat *st, char *error, size_t error_size)
{
        if (!S_ISREG(st->st_mode)) {
                snprintf(error, error_size, "Enrolment token file %s is not a regular file; refusing.",
                         path);
                return -EBADFD;
        }
        if (st->st_mode & 0077) {
                snprintf(error, error_size,
                         "Enrolment token file %s has mode %04o, so group or others may read or write "
                         "it; refusing. Restrict it to its owner: chmod 0400 %s",
                         path, (unsigned)(st->st_mode & 07777), path);
                return -EPERM;
        }
        return 0;
}

static int open_token_file(const char *path, char *error, size_t error_size)
{
        int fd;

        /* O_NONBLOCK: a FIFO planted at the path must not hang us before fstat() refuses it. */
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd >= 0)
                return fd;
        if (errno == ELOOP) {
                snprintf(error, error_size,
                         "Enrolment token file %s is a symbolic link; refusing. Pass the path of the "
                         "file itself (for a Kubernetes secret volume: DIR/..data/KEY).",
                         path);
                return -ELOOP;
        }
        fd = negative_errno();
        snprintf(error, error_size, "Failed to open enrolment token file %s: %s", path, strerror(-fd));
        return fd;
}

int token_source_read_file(const char *path, char **ret_token, char *error, size_t error_size)
{
        _cleanup_close_ int fd = -EBADF;
        char buf[TOKEN_FILE_MAX + 1];
        struct stat st;
        ssize_t n;
        int r;

        if (isempty(path) || !ret_token)
                return -EINVAL;

        fd = open_token_file(path, error, error_size);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0) {
                r = negative_errno();
                snprintf(error, error_size, "Failed to stat enrolment token file %s: %s", path,
                         strerror(-r));
                return r;
        }
        r = refuse_stat(path, &st, error, error_size);
        if (r < 0)
                return r;

        n = loop_read(fd, buf, sizeof(buf));
        if (n < 0) {
                snprintf(error, error_size, "Failed to read enrolment token file %s: %s", path,
                         strerror((int)-n));
                return (int)n;
        }
        r = 0;
        if ((size_t)n > TOKEN_FILE_MAX) {
                snprintf(error, error_size, "Enrolment token file %s is larger than %d bytes; refusing.",
                         path, TOKEN_FILE_MAX);
                r = -EFBIG;
        } else if (memchr(buf, 0, (size_t)n)) {
                snprintf(error, error_size, "Enrolment token file %s contains a NUL byte; refusing.", path);
                r = -EBADMSG;
        } else {
                if (n > 0 && buf[n - 1] == '\n')
                        n--;
                if (n == 0) {
                        snprintf(error, error_size, "Enrolment token file %s is empty.", path);
                        r = -ENODATA;
                }
        }
        if (r >= 0) {
                *ret_token = strndup(buf, (size_t)n);
                if (!*ret_token)
                        r = -ENOMEM;
        }
        explicit_bzero(buf, sizeof(buf));
        return r;
}
