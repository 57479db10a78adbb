/* The PID file.
 *
 * The lock, not the file's content, says whether an agent runs: flock() dies with its holder, so a file
 * left by a crashed agent is simply locked again and rewritten. We lock first, and only then truncate
 * and write, so a loser never clobbers the winner's PID. Unlinking on release opens a race: a second
 * agent may have opened the old inode just before we unlinked it and then lock that orphan while a third
 * creates a fresh file. So after locking we check that the inode we hold is still the one at `path`,
 * and start over if not.
 *
 * The file is opened with O_NOFOLLOW, and one that another user created (a planted file we would lock and
 * write through) is refused with -EPERM: only root, the agent's uid and the package's user may own it. */

#include "daemon/pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "daemon/runtime-dir.h"
#include "util/time-util.h"

#define HOLDER_WAIT_USEC (200 * USEC_PER_MSEC)
#define MAX_ATTEMPTS     16

struct PidFile {
        char *path;
        int fd;
};

static int mkdir_parent(const char *path)
{
        _cleanup_free_ char *dir = strdup(path);
        char *slash;

        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (!slash || slash == dir)
                return 0;
        *slash = '\0';
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* Whether `fd` is still the file named `path` (nobody unlinked or replaced it since we opened it). */
static int fd_is_path(int fd, const char *path)
{
        struct stat a, b;

        if (fstat(fd, &a) < 0)
                return -errno;
        if (stat(path, &b) < 0)
                return errno == ENOENT ? 0 : -errno;
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int parse_pid(const char *s, pid_t *ret)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || end == s || (*end && *end != '\n') || v <= 0 || v > INT32_MAX)
                return -EBADMSG;
        *ret = (pid_t)v;
        return 0;
}

static int read_pid_fd(int fd, pid_t *ret)
{
        char buf[32];
        ssize_t n;

        n = pread(fd, buf, sizeof(buf) - 1, 0);
        if (n < 0)
                return -errno;
        if (n == 0)
                return -ENODATA;
        buf[n] = '\0';
        return parse_pid(buf, ret);
}

int pidfile_read(const char *path, pid_t *ret)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

        if (fd < 0)
                return -errno;
        return read_pid_fd(fd, ret);
}

/* The winner writes its PID right after locking; give it a moment so the message can name it. */
static pid_t holder_pid(int fd)
{
        usec_t deadline = now(CLOCK_MONOTONIC) + HOLDER_WAIT_USEC;
        pid_t pid = 0;

        while (read_pid_fd(fd, &pid) < 0) {
                if (now(CLOCK_MONOTONIC) >= deadline)
                        return 0;
                (void)nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL);
        }
        return pid;
}

static int write_pid(int fd)
{
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());

        if (ftruncate(fd, 0) < 0)
                return -errno;
        if (pwrite(fd, buf, (size_t)n, 0) != n)
                return errno > 0 ? -errno : -EIO;
        return 0;
}

/* One attempt: 1 locked (fd returned), 0 lost an unlink race (try again), -EBUSY held elsewhere. */
static int try_lock(const char *path, int *ret_fd, pid_t *ret_holder)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0644);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (!agent_uid_trusted(st.st_uid))
                return -EPERM;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK)
                        return -errno;
                if (ret_holder)
                        *ret_holder = holder_pid(fd);
                return -EBUSY;
        }
        r = fd_is_path(fd, path);
        if (r <= 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 1;
}

int pidfile_acquire(const char *path, PidFile **ret, pid_t *ret_holder)
{
        _cleanup_(pidfile_releasep) PidFile *p = NULL;
        int fd = -EBADF, r = 0;

        if (ret_holder)
                *ret_holder = 0;
        r = mkdir_parent(path);
        if (r < 0)
                return r;

        for (unsigned i = 0; i < MAX_ATTEMPTS && r == 0; i++)
                r = try_lock(path, &fd, ret_holder);
        if (r < 0)
                return r;
        if (r == 0)
                return -EAGAIN;

        p = calloc(1, sizeof(*p));
        if (!p) {
                safe_close(fd);
                return -ENOMEM;
        }
        p->fd = fd;
        p->path = strdup(path);
        if (!p->path)
                return -ENOMEM;

        r = write_pid(p->fd);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

PidFile *pidfile_release(PidFile *p)
{
        if (!p)
                return NULL;
        /* Unlink while still holding the lock, and only our own inode: never a successor's file. */
        if (p->path && p->fd >= 0 && fd_is_path(p->fd, p->path) > 0)
                (void)unlink(p->path);
        safe_close(p->fd);
        free(p->path);
        free(p);
        return NULL;
}
