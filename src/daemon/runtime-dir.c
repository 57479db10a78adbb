/* The runtime directory.
 *
 * Everything the agent keeps in /run/linuxguard (PID file, control socket, TLS cache) is only as safe as
 * the directory: whoever owns it, or may write to it, can replace, remove or redirect each of them. So the
 * agent creates the directory itself when it is missing, and otherwise opens it with O_NOFOLLOW and checks
 * the inode it opened (not the path again): a symlink is never followed, and an owner other than root,
 * the agent's uid or the package's system user is refused. */

#include "daemon/runtime-dir.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/macro.h"

bool agent_uid_trusted(uid_t uid)
{
        struct passwd *pw;

        if (uid == 0 || uid == geteuid())
                return true;
        pw = getpwnam(AGENT_SYSTEM_USER);
        return pw && pw->pw_uid == uid;
}

static int check_dir(int fd, const char *path, char *reason, size_t reason_size)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!agent_uid_trusted(st.st_uid)) {
                snprintf(reason, reason_size,
                         "%s is owned by uid %u, neither root nor the agent's uid %u nor user %s; that user "
                         "could replace or remove the agent's runtime files. Remove it (rm -rf %s) and "
                         "start again, or chown it to the agent's uid.",
                         path, (unsigned)st.st_uid, (unsigned)geteuid(), AGENT_SYSTEM_USER, path);
                return -EPERM;
        }
        if (!(st.st_mode & 0022))
                return 0;
        /* Others may create or delete files in it. Ours to fix if we own it; the sticky bit does not help,
         * since a planted file would still be there. */
        if (st.st_uid == geteuid() && fchmod(fd, st.st_mode & 07755) >= 0)
                return 0;
        snprintf(reason, reason_size,
                 "%s has mode %04o: group or others may create files in it, such as an impostor control "
                 "socket. Run: chmod 0755 %s",
                 path, (unsigned)(st.st_mode & 07777), path);
        return -EPERM;
}

int runtime_dir_prepare(const char *path, char *reason, size_t reason_size)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                r = negative_errno();
                if (lstat(path, &st) >= 0 && S_ISLNK(st.st_mode)) {
                        snprintf(reason, reason_size,
                                 "%s is a symbolic link; the agent does not follow it, since whoever owns "
                                 "its target could move or remove the agent's runtime files. Remove it "
                                 "(rm %s) and start again.",
                                 path, path);
                        return -ELOOP;
                }
                if (r == -ENOTDIR)
                        snprintf(reason, reason_size, "%s is not a directory. Remove it and start again.",
                                 path);
                else
                        snprintf(reason, reason_size, "Failed to open %s: %s", path, strerror(-r));
                return r;
        }
        return check_dir(fd, path, reason, reason_size);
}
