/* The TLS cache on a memory filesystem. Design:
 *  - Every open is relative to a directory fd with O_NOFOLLOW, and everything we read is checked with
 *    fstat() on the fd we read from: owned by our euid, no group/other bits, the right file type.
 *  - Crash safety comes from ordering, not locking: a store removes .tag first, renames each new file
 *    into place (written to a temp file and fsync'ed), and renames the new .tag in last. load() trusts
 *    nothing without a matching .tag, so a kill mid-store leaves either a complete cache or one that is
 *    deleted on the next start; and even a complete-looking mix would fail tls_identity_verify().
 *  - Anything stale is deleted, anything suspicious (ownership, mode, symlink) is refused untouched. */

#include "identity/tls-cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "util/io-util.h"
#include "util/log.h"
#include "util/macro.h"

/* Largest cache file accepted; a certificate chain is a few KiB. */
#define TLS_CACHE_FILE_MAX (256U * 1024U)

static const char *fs_type_name(long type)
{
        switch ((unsigned long)type) {
        case EXT4_SUPER_MAGIC:
                return "ext2/ext3/ext4";
        case OVERLAYFS_SUPER_MAGIC:
                return "overlayfs (the container's writable layer)";
        case XFS_SUPER_MAGIC:
                return "xfs";
        case BTRFS_SUPER_MAGIC:
                return "btrfs";
        case NFS_SUPER_MAGIC:
                return "nfs";
        case FUSE_SUPER_MAGIC:
                return "fuse";
        case V9FS_MAGIC:
                return "9p";
        default:
                return "a disk-backed filesystem";
        }
}

int tls_cache_check_memory_fs(const char *root, char *error, size_t error_size)
{
        struct statfs sfs;
        int r;

        if (statfs(root, &sfs) < 0) {
                r = negative_errno();
                snprintf(error, error_size,
                         "--tls-cache needs a memory filesystem mounted at %s, but it cannot be checked "
                         "(%s). Mount a tmpfs there: --tmpfs %s:mode=0700,size=10m (docker/podman), or an "
                         "emptyDir: {medium: Memory} volume mounted at %s (Kubernetes).",
                         root, strerror(-r), root, root);
                return r;
        }
        if ((unsigned long)sfs.f_type == TMPFS_MAGIC || (unsigned long)sfs.f_type == RAMFS_MAGIC)
                return 0;

        snprintf(error, error_size,
                 "--tls-cache needs a memory filesystem at %s, but it is on %s (f_type 0x%lx), where the "
                 "certificate and private key would survive on disk. Mount a tmpfs there: --tmpfs "
                 "%s:mode=0700,size=10m (docker/podman), or an emptyDir: {medium: Memory} volume mounted "
                 "at %s (Kubernetes).",
                 root, fs_type_name(sfs.f_type), (unsigned long)sfs.f_type, root, root);
        return -EMEDIUMTYPE;
}

int tls_cache_tag(const char *token, const char *workload_id, char ret[static TLS_CACHE_TAG_SIZE])
{
        const char *parts[] = {token, ":", workload_id};

        if (isempty(token) || isempty(workload_id))
                return -EINVAL;
        return sha256_hex_parts(parts, ELEMENTSOF(parts), ret);
}

/* Refuses what another uid could have planted or can read. `type` is S_IFDIR or S_IFREG. */
static int check_private(int fd, mode_t type, const char *root, const char *name, char *reason,
                         size_t reason_size)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        if ((st.st_mode & S_IFMT) != type) {
                snprintf(reason, reason_size, "TLS cache %s/%s is not a %s; refusing to use it.", root, name,
                         type == S_IFDIR ? "directory" : "regular file");
                return -EBADFD;
        }
        if (st.st_uid != geteuid()) {
                snprintf(
                        reason, reason_size,
                        "TLS cache %s/%s is owned by uid %u, not by the agent's uid %u; refusing to use it. "
                        "Remove it, or fix its owner.",
                        root, name, (unsigned)st.st_uid, (unsigned)geteuid());
                return -EPERM;
        }
        if (st.st_mode & 0077) {
                snprintf(reason, reason_size,
                         "TLS cache %s/%s has mode %04o, so group or others have access; refusing to use "
                         "it. Remove it, or chmod %s.",
                         root, name, (unsigned)(st.st_mode & 07777), type == S_IFDIR ? "0700" : "0600");
                return -EPERM;
        }
        return 0;
}

static int refuse_symlink(const char *root, const char *name, char *reason, size_t reason_size)
{
        snprintf(reason, reason_size, "TLS cache %s/%s is a symbolic link; refusing to follow it.", root,
                 name);
        return -ELOOP;
}

/* Opens ROOT/tls after checking it. Returns the fd, -ENOENT if absent, or a refusal. */
static int open_cache_dir(int root_fd, const char *root, char *reason, size_t reason_size)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        fd = openat(root_fd, TLS_CACHE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                r = negative_errno();
                if (r != -ENOENT && fstatat(root_fd, TLS_CACHE_DIR, &st, AT_SYMLINK_NOFOLLOW) >= 0 &&
                    S_ISLNK(st.st_mode))
                        return refuse_symlink(root, TLS_CACHE_DIR, reason, reason_size);
                if (r == -ENOTDIR)
                        snprintf(reason, reason_size,
                                 "TLS cache %s/%s is not a directory; refusing to use it.", root,
                                 TLS_CACHE_DIR);
                else if (r != -ENOENT)
                        snprintf(reason, reason_size, "Failed to open TLS cache %s/%s: %s", root,
                                 TLS_CACHE_DIR, strerror(-r));
                return r;
        }
        r = check_private(fd, S_IFDIR, root, TLS_CACHE_DIR, reason, reason_size);
        if (r < 0)
                return r;
        return TAKE_FD(fd);
}

/* Reads a whole cache file; -EBADMSG if it is too large or holds a NUL (not PEM text). */
static int read_fd_all(int fd, char **ret)
{
        _cleanup_secret_ char *buf = NULL;
        ssize_t k;
        size_t n;

        buf = calloc(1, TLS_CACHE_FILE_MAX + 2);
        if (!buf)
                return -ENOMEM;
        k = loop_read(fd, buf, TLS_CACHE_FILE_MAX + 1);
        if (k < 0)
                return (int)k;
        n = (size_t)k;
        if (n > TLS_CACHE_FILE_MAX || strlen(buf) != n)
                return -EBADMSG;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* 1 and the content (the caller wipes it); 0 if missing or not text, with `reason` saying which, so
 * the cache is stale; <0 refused or unreadable. */
static int read_cache_file(int dir_fd, const char *root, const char *name, char **ret, char *reason,
                           size_t reason_size)
{
        _cleanup_close_ int fd = -EBADF;
        char path[64];
        int r;

        snprintf(path, sizeof(path), "%s/%s", TLS_CACHE_DIR, name);
        fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = negative_errno();
                if (r == -ENOENT) {
                        snprintf(reason, reason_size, "%s is missing (an interrupted write)", path);
                        return 0;
                }
                if (r == -ELOOP)
                        return refuse_symlink(root, path, reason, reason_size);
                snprintf(reason, reason_size, "Failed to open TLS cache %s/%s: %s", root, path,
                         strerror(-r));
                return r;
        }
        r = check_private(fd, S_IFREG, root, path, reason, reason_size);
        if (r < 0)
                return r;
        r = read_fd_all(fd, ret);
        if (r == -EBADMSG) {
                snprintf(reason, reason_size, "%s is not PEM text", path);
                return 0;
        }
        if (r < 0) {
                snprintf(reason, reason_size, "Failed to read TLS cache %s/%s: %s", root, path,
                         strerror(-r));
                return r;
        }
        return 1;
}

static int remove_cache_dir_at(int root_fd)
{
        _cleanup_close_ int fd = -EBADF;
        DIR *d;
        int r = 0;

        fd = openat(root_fd, TLS_CACHE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : negative_errno();
        d = fdopendir(fd);
        if (!d)
                return negative_errno();
        fd = -EBADF; /* owned by d now */
        for (struct dirent *de; (errno = 0, de = readdir(d));) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT && r == 0)
                        r = negative_errno();
        }
        if (errno != 0 && r == 0)
                r = negative_errno();
        if (r == 0)
                r = fsync(dirfd(d)) < 0 ? negative_errno() : 0;
        closedir(d);
        if (r < 0)
                return r;
        if (unlinkat(root_fd, TLS_CACHE_DIR, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return negative_errno();
        return 0;
}

int tls_cache_remove(const char *root)
{
        _cleanup_close_ int root_fd = -EBADF;

        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (root_fd < 0)
                return errno == ENOENT ? 0 : negative_errno();
        return remove_cache_dir_at(root_fd);
}

typedef struct CachedPem {
        char *tag, *key, *cert, *ca;
} CachedPem;

static void cached_pem_done(CachedPem *p)
{
        p->tag = erase_and_free(p->tag);
        p->key = erase_and_free(p->key);
        p->cert = erase_and_free(p->cert);
        p->ca = erase_and_free(p->ca);
}

/* Reads .tag and, only if it matches, the rest: 1 all read, 0 stale (reason set), <0 refused. */
static int read_cache(int dir_fd, const char *root, const char *tag, CachedPem *ret, char *reason,
                      size_t reason_size)
{
        int r;

        r = read_cache_file(dir_fd, root, TLS_CACHE_TAG, &ret->tag, reason, reason_size);
        if (r <= 0)
                return r;
        if (!streq(ret->tag, tag)) {
                snprintf(reason, reason_size,
                         "its tag differs (the enrolment token was rotated or the workload id changed)");
                return 0;
        }
        r = read_cache_file(dir_fd, root, TLS_CACHE_KEY, &ret->key, reason, reason_size);
        if (r <= 0)
                return r;
        r = read_cache_file(dir_fd, root, TLS_CACHE_CERT, &ret->cert, reason, reason_size);
        if (r <= 0)
                return r;
        return read_cache_file(dir_fd, root, TLS_CACHE_CA, &ret->ca, reason, reason_size);
}

/* 1 usable identity, 0 unusable (reason set). */
static int build_identity(const CachedPem *p, usec_t now, TlsIdentity **ret, char *reason,
                          size_t reason_size)
{
        _cleanup_(tls_identity_freep) TlsIdentity *id = NULL;
        int r;

        r = tls_identity_load(&id, p->key, p->cert, p->ca);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                snprintf(reason, reason_size, "its key, certificate or CA chain does not parse");
                return 0;
        }
        r = tls_identity_verify(id, now);
        if (r < 0) {
                snprintf(reason, reason_size, "its certificate is unusable: %s",
                         tls_identity_verify_strerror(r));
                return 0;
        }
        *ret = TAKE_PTR(id);
        return 1;
}

int tls_cache_load(const char *root, const char *tag, usec_t now, TlsIdentity **ret, char *reason,
                   size_t reason_size)
{
        _cleanup_(cached_pem_done) CachedPem pem = {};
        _cleanup_close_ int root_fd = -EBADF, dir_fd = -EBADF;
        char why[256];
        int r;

        if (isempty(root) || isempty(tag) || !ret)
                return -EINVAL;

        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (root_fd < 0) {
                r = negative_errno();
                snprintf(reason, reason_size, "Failed to open %s: %s", root, strerror(-r));
                return r;
        }
        dir_fd = open_cache_dir(root_fd, root, reason, reason_size);
        if (dir_fd == -ENOENT) {
                snprintf(reason, reason_size, "no TLS cache in %s/%s", root, TLS_CACHE_DIR);
                return 0;
        }
        if (dir_fd < 0)
                return dir_fd;

        r = read_cache(dir_fd, root, tag, &pem, why, sizeof(why));
        if (r > 0)
                r = build_identity(&pem, now, ret, why, sizeof(why));
        if (r < 0) {
                snprintf(reason, reason_size, "%s", why);
                return r;
        }
        if (r > 0) {
                snprintf(reason, reason_size, "reusing the TLS cache in %s/%s", root, TLS_CACHE_DIR);
                return 1;
        }

        r = remove_cache_dir_at(root_fd);
        if (r < 0) {
                snprintf(reason, reason_size, "Failed to delete the stale TLS cache %s/%s (%s): %s", root,
                         TLS_CACHE_DIR, why, strerror(-r));
                return r;
        }
        snprintf(reason, reason_size, "deleted the TLS cache %s/%s: %s", root, TLS_CACHE_DIR, why);
        return 0;
}

/* Writes `content` to a temp file in dir_fd, fsyncs it and renames it over `name`. */
static int write_file_atomic(int dir_fd, const char *name, const char *content)
{
        _cleanup_close_ int fd = -EBADF;
        size_t left = strlen(content);
        char tmp[64];
        int r;

        snprintf(tmp, sizeof(tmp), ".#%s.tmp", name);
        if (unlinkat(dir_fd, tmp, 0) < 0 && errno != ENOENT)
                return negative_errno();
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0)
                return negative_errno();
        r = RET_NERRNO(fchmod(fd, 0600)); /* whatever the umask */
        for (const char *p = content; r >= 0 && left > 0;) {
                ssize_t k = write(fd, p, left);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        r = negative_errno();
                else
                        p += k, left -= (size_t)k;
        }
        if (r >= 0)
                r = RET_NERRNO(fsync(fd));
        if (r >= 0)
                r = RET_NERRNO(renameat(dir_fd, tmp, dir_fd, name));
        if (r < 0)
                (void)unlinkat(dir_fd, tmp, 0);
        return r;
}

/* Creates ROOT/tls if needed and opens it, refusing one we do not own or that others can access. */
static int open_or_create_cache_dir(int root_fd, const char *root)
{
        char reason[512];
        int fd;

        if (mkdirat(root_fd, TLS_CACHE_DIR, 0700) >= 0) {
                fd = openat(root_fd, TLS_CACHE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return negative_errno();
                if (fchmod(fd, 0700) < 0) { /* exactly, whatever the umask */
                        safe_close(fd);
                        return negative_errno();
                }
                return fd;
        }
        if (errno != EEXIST)
                return negative_errno();
        fd = open_cache_dir(root_fd, root, reason, sizeof(reason));
        if (fd < 0)
                return log_debug_errno(fd, "%s", reason);
        return fd;
}

int tls_cache_store(const char *root, const char *tag, const TlsIdentity *id)
{
        _cleanup_close_ int root_fd = -EBADF, dir_fd = -EBADF;
        const char *key, *cert, *ca;
        int r;

        key = tls_identity_get_key_pem(id);
        cert = tls_identity_get_cert_pem(id);
        ca = tls_identity_get_ca_chain_pem(id);
        /* The key lives in MADV_WIPEONFORK memory: a forked child sees it empty and must not store it. */
        if (isempty(root) || isempty(tag) || isempty(key) || isempty(cert) || isempty(ca))
                return -EINVAL;

        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (root_fd < 0)
                return negative_errno();
        dir_fd = open_or_create_cache_dir(root_fd, root);
        if (dir_fd < 0)
                return dir_fd;

        /* Untag first: from here until the new .tag lands, load() sees an incomplete cache. */
        if (unlinkat(dir_fd, TLS_CACHE_TAG, 0) < 0 && errno != ENOENT)
                return negative_errno();
        r = RET_NERRNO(fsync(dir_fd));
        if (r >= 0)
                r = write_file_atomic(dir_fd, TLS_CACHE_KEY, key);
        if (r >= 0)
                r = write_file_atomic(dir_fd, TLS_CACHE_CERT, cert);
        if (r >= 0)
                r = write_file_atomic(dir_fd, TLS_CACHE_CA, ca);
        if (r >= 0)
                r = write_file_atomic(dir_fd, TLS_CACHE_TAG, tag);
        if (r >= 0)
                r = RET_NERRNO(fsync(dir_fd));
        return r < 0 ? log_debug_errno(r, "Failed to write the TLS cache in %s/%s: %m", root, TLS_CACHE_DIR)
                     : 0;
}
