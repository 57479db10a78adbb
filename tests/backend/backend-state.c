/* State directory helpers.
 *
 * Tests assert on these files while the server runs, so every JSON record is replaced atomically
 * (temporary file, fsync, rename) and every log line is appended with one write(). Secrets are written
 * with mode 0600 and create-once semantics (link() of a complete temporary), so two processes racing to
 * create a tenant secret agree on one value. */

#include "backend-state.h"

#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "util/hash-util.h"

static const char *const state_subdirs[] = {
        "tenants", "identities", "idempotency", "events", "heartbeats",
};

bool state_name_valid(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > 128 || s[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-' || c == ':'))
                        return false;
        }
        return true;
}

char *state_path(const char *dir, const char *sub, const char *name)
{
        char *p;

        if (asprintf(&p, "%s/%s%s%s", dir, sub, name ? "/" : "", strempty(name)) < 0)
                return NULL;
        return p;
}

static int mkdir_safe(const char *path)
{
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int state_init(const char *dir)
{
        int r = mkdir_safe(dir);
        if (r < 0)
                return r;
        FOREACH_ARRAY (sub, state_subdirs, ELEMENTSOF(state_subdirs)) {
                _cleanup_free_ char *p = state_path(dir, *sub, NULL);
                if (!p)
                        return -ENOMEM;
                r = mkdir_safe(p);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int write_all(int fd, const void *data, size_t size)
{
        const char *p = data;

        while (size > 0) {
                ssize_t n = write(fd, p, size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                size -= (size_t)n;
        }
        return 0;
}

/* Writes a complete temporary next to `path`; returns its name in `ret_tmp`. */
static int write_tmp(const char *path, const void *data, size_t size, int mode, char **ret_tmp)
{
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        unsigned char rnd[8];
        int r;

        if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) < 0)
                return -EIO;
        if (asprintf(&tmp, "%s.tmp.%02x%02x%02x%02x%02x%02x%02x%02x", path, rnd[0], rnd[1], rnd[2], rnd[3],
                     rnd[4], rnd[5], rnd[6], rnd[7]) < 0)
                return -ENOMEM;

        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        r = write_all(fd, data, size);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r < 0) {
                (void)unlink(tmp);
                return r;
        }
        *ret_tmp = TAKE_PTR(tmp);
        return 0;
}

int write_file_atomic(const char *path, const void *data, size_t size, int mode)
{
        _cleanup_free_ char *tmp = NULL;
        int r;

        r = write_tmp(path, data, size, mode, &tmp);
        if (r < 0)
                return r;
        if (rename(tmp, path) < 0) {
                r = -errno;
                (void)unlink(tmp);
                return r;
        }
        return 0;
}

int write_file_exclusive(const char *path, const void *data, size_t size, int mode)
{
        _cleanup_free_ char *tmp = NULL;
        int r;

        r = write_tmp(path, data, size, mode, &tmp);
        if (r < 0)
                return r;
        r = link(tmp, path) < 0 ? -errno : 0;
        (void)unlink(tmp);
        return r;
}

int read_full_file(const char *path, char **ret, size_t *ret_size)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, alloc = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t n;
                if (alloc - size < 4096) {
                        char *nb = realloc(buf, alloc + 65536);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        alloc += 65536;
                }
                n = read(fd, buf + size, alloc - size - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                size += (size_t)n;
        }
        buf[size] = 0;
        if (ret_size)
                *ret_size = size;
        *ret = TAKE_PTR(buf);
        return 0;
}

int append_file(const char *path, const void *data, size_t size)
{
        _cleanup_close_ int fd = -EBADF;

        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        return write_all(fd, data, size);
}

int state_json_write(const char *path, json_object *obj)
{
        size_t len;
        const char *s = json_object_to_json_string_length(obj, JSON_FLAGS | JSON_C_TO_STRING_PRETTY, &len);

        if (!s)
                return -ENOMEM;
        return write_file_atomic(path, s, len, 0600);
}

int state_json_read(const char *path, json_object **ret)
{
        _cleanup_free_ char *text = NULL;
        json_object *obj;
        int r;

        r = read_full_file(path, &text, NULL);
        if (r < 0)
                return r;
        obj = json_tokener_parse(text);
        if (!obj || !json_object_is_type(obj, json_type_object)) {
                json_object_put(obj);
                return -EBADMSG;
        }
        *ret = obj;
        return 0;
}

static int tenant_secret_create(const char *path)
{
        unsigned char secret[TENANT_SECRET_SIZE];
        char hex[2 * TENANT_SECRET_SIZE + 2];
        int r;

        if (gnutls_rnd(GNUTLS_RND_KEY, secret, sizeof(secret)) < 0)
                return -EIO;
        for (size_t i = 0; i < sizeof(secret); i++)
                snprintf(hex + 2 * i, 3, "%02x", secret[i]);
        hex[2 * TENANT_SECRET_SIZE] = '\n';
        r = write_file_exclusive(path, hex, 2 * TENANT_SECRET_SIZE + 1, 0600);
        explicit_bzero(secret, sizeof(secret));
        explicit_bzero(hex, sizeof(hex));
        return r == -EEXIST ? 0 : r; /* somebody else won the race: use theirs */
}

int tenant_secret_load(const char *dir, const char *tenant, bool create,
                       unsigned char ret[static TENANT_SECRET_SIZE])
{
        _cleanup_free_ char *name = NULL, *path = NULL;
        _cleanup_secret_ char *text = NULL;
        int r;

        if (!state_name_valid(tenant))
                return -EINVAL;
        if (asprintf(&name, "%s.secret", tenant) < 0)
                return -ENOMEM;
        path = state_path(dir, "tenants", name);
        if (!path)
                return -ENOMEM;

        if (create) {
                r = tenant_secret_create(path);
                if (r < 0)
                        return r;
        }
        r = read_full_file(path, &text, NULL);
        if (r < 0)
                return r;
        text[strcspn(text, "\r\n")] = 0;
        r = hexdecode_exact(text, ret, TENANT_SECRET_SIZE);
        if (r < 0)
                explicit_bzero(ret, TENANT_SECRET_SIZE); /* no half-decoded secret left for the caller */
        return r;
}

int state_lock(const char *dir)
{
        _cleanup_free_ char *path = state_path(dir, ".lock", NULL);
        int fd;

        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX) < 0) {
                int r = -errno;
                safe_close(fd);
                return r;
        }
        return fd;
}
