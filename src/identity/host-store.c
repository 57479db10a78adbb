/* The host store.
 *
 * Four files rather than one so that operators and tools can read the certificate with openssl. A save
 * replaces all of them as one: the key, CA chain and certificate are first staged under hidden names
 * (".agent.key.new" ...), then the state file, which carries the certificate's SHA-256, is renamed into
 * place (the commit), then the staged files are renamed over the old ones, the certificate last. Loading
 * finishes what a crash interrupted: while the staged certificate exists and matches the state file the
 * save was committed and is rolled forward; staged files the state file does not name are an uncommitted
 * save and are removed; a save first finishes an earlier one the same way. A process that cannot write
 * the directory reads a committed save's staged files instead. Saves and loads hold an flock(2) on the
 * directory, so the agent renewing and 'linuxguard enroll' run by hand cannot interleave. Either way the
 * key, certificate and state always belong together. Loading still checks that they do, so a store
 * broken by hand reads as -EBADMSG instead of a broken identity. */

#include "identity/host-store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "core/enroll-proto.h"
#include "core/http-time.h"
#include "util/hash-util.h"
#include "util/io-util.h"
#include "util/json-util.h"
#include "util/log.h"
#include "util/macro.h"

#define MAX_FILE_SIZE (256 * 1024)

void host_enrolment_done(HostEnrolment *e)
{
        e->agent_id = mfree(e->agent_id);
        e->tenant_id = mfree(e->tenant_id);
        e->workload_id = mfree(e->workload_id);
        e->expires_at = 0;
}

char *format_rfc3339(usec_t t, char *buf, size_t size)
{
        time_t sec = (time_t)(t / USEC_PER_SEC);
        struct tm tm;

        if (!gmtime_r(&sec, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(buf, size, "?");
        return buf;
}

static int open_dir(const char *dir, bool create)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (create && mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* It holds a private key: never leave it readable by others, whoever created it. */
        if (create && fstat(fd, &st) >= 0 && (st.st_mode & 07777) != 0700 && fchmod(fd, 0700) < 0)
                return -errno;
        return TAKE_FD(fd);
}

/* A file being written is ".NAME.tmp-PID" until it is renamed to NAME. */
#define TEMP_INFIX ".tmp-"

static bool is_temp_name(const char *name)
{
        const char *p = strstr(name, TEMP_INFIX);

        if (name[0] != '.' || !p)
                return false;
        /* The last ".tmp-" is followed by a PID: digits only. */
        for (const char *q; (q = strstr(p + 1, TEMP_INFIX));)
                p = q;
        p += strlen(TEMP_INFIX);
        return *p && strspn(p, "0123456789") == strlen(p);
}

/* Every write happens under the directory's lock, so a temporary file seen while holding it belongs to
 * a process that died mid-write (kill -9, power loss): nothing will ever rename it. Removed so the state
 * directory does not fill up with them, one per interrupted save. */
static void store_remove_temp_files(int dir_fd)
{
        _cleanup_close_ int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        DIR *d;

        if (fd < 0 || !(d = fdopendir(fd)))
                return;
        fd = -EBADF; /* owned by d now */
        for (struct dirent *de; (de = readdir(d));) {
                if (!is_temp_name(de->d_name))
                        continue;
                if (unlinkat(dir_fd, de->d_name, 0) >= 0)
                        log_debug("Removed %s, left by an interrupted save.", de->d_name);
                else
                        log_debug_errno(errno,
                                        "Failed to remove %s, left by an interrupted save, ignoring: %m",
                                        de->d_name);
        }
        closedir(d);
}

/* `owner`: the state directory's, so files that root writes (`linuxguard enroll` from a shell) stay
 * readable by the unprivileged agent that owns the directory (StateDirectory= with User=). */
static int write_file_atomic(int dir_fd, const char *name, const char *data, mode_t mode,
                             const struct stat *owner)
{
        _cleanup_close_ int fd = -EBADF;
        char tmp[128];
        int r;

        snprintf(tmp, sizeof(tmp), ".%s" TEMP_INFIX "%d", name, (int)getpid());
        (void)unlinkat(dir_fd, tmp, 0);
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        r = RET_NERRNO(fchmod(fd, mode)); /* the umask may have taken bits we want */
        if (r >= 0 && geteuid() == 0 && owner->st_uid != 0)
                r = RET_NERRNO(fchown(fd, owner->st_uid, owner->st_gid));
        if (r >= 0)
                r = loop_write(fd, data, strlen(data));
        if (r >= 0)
                r = RET_NERRNO(fsync(fd));
        if (r >= 0)
                r = RET_NERRNO(renameat(dir_fd, tmp, dir_fd, name));
        if (r < 0) {
                (void)unlinkat(dir_fd, tmp, 0);
                return log_debug_errno(r, "Failed to write %s: %m", name);
        }
        return 0;
}

static int enrolment_to_json(const HostEnrolment *e, usec_t expires_at, const char *cert_sha256, char **ret)
{
        _cleanup_json_ json_object *o = json_object_new_object();
        char when[64];
        const char *s;

        if (!o)
                return -ENOMEM;
        format_rfc3339(expires_at, when, sizeof(when));
        if (json_object_object_add(o, "agentId", json_object_new_string(e->agent_id)) < 0 ||
            json_object_object_add(o, "tenantId", json_object_new_string(e->tenant_id)) < 0 ||
            json_object_object_add(o, "workloadId", json_object_new_string(e->workload_id)) < 0 ||
            json_object_object_add(o, "expiresAt", json_object_new_string(when)) < 0 ||
            json_object_object_add(o, "certificateSha256", json_object_new_string(cert_sha256)) < 0)
                return -ENOMEM;
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s || asprintf(ret, "%s\n", s) < 0)
                return -ENOMEM;
        return 0;
}

/* Renamed in this order; the certificate last, so that while its staged copy exists a committed save has
 * not finished. */
static const char *const store_files[] = {HOST_STORE_KEY_FILE, HOST_STORE_CA_FILE, HOST_STORE_CERT_FILE};
#define STAGED_NAME_MAX 64

static const char *staged_name(const char *name, char buf[static STAGED_NAME_MAX])
{
        snprintf(buf, STAGED_NAME_MAX, ".%s.new", name);
        return buf;
}

/* Second half of a committed save: the staged files over the old ones. The certificate goes last, once
 * the other renames are on disk, so that a staged certificate always means an unfinished save.
 * `missing_ok`: finishing a save that was already partly renamed. */
static int store_roll_forward(int dir_fd, bool missing_ok)
{
        char staged[STAGED_NAME_MAX];

        for (size_t i = 0; i < ELEMENTSOF(store_files); i++) {
                if (streq(store_files[i], HOST_STORE_CERT_FILE) && fsync(dir_fd) < 0)
                        return -errno;
                if (renameat(dir_fd, staged_name(store_files[i], staged), dir_fd, store_files[i]) < 0 &&
                    (errno != ENOENT || !missing_ok))
                        return log_debug_errno(errno, "Failed to rename %s to %s: %m", staged,
                                               store_files[i]);
        }
        return RET_NERRNO(fsync(dir_fd));
}

/* Staged files of a save that never reached its commit. */
static void store_remove_staged(int dir_fd)
{
        char staged[STAGED_NAME_MAX];

        for (size_t i = 0; i < ELEMENTSOF(store_files); i++)
                (void)unlinkat(dir_fd, staged_name(store_files[i], staged), 0);
}

/* Reads a whole small file. The caller wipes it when it is the key. -ENOENT if absent. */
static int read_file_at(int dir_fd, const char *name, char **ret)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_secret_ char *buf = NULL;
        size_t size = 0;
        struct stat st;

        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_size > MAX_FILE_SIZE)
                return -EBADMSG;
        buf = calloc(1, (size_t)st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        while (size < (size_t)st.st_size) {
                ssize_t n = read(fd, buf + size, (size_t)st.st_size - size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                size += (size_t)n;
        }
        *ret = TAKE_PTR(buf);
        return 0;
}

static int json_dup_string(json_object *o, const char *key, char **ret)
{
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string) ||
            json_object_get_string_len(v) == 0)
                return -EBADMSG;
        *ret = strdup(json_object_get_string(v));
        return *ret ? 0 : -ENOMEM;
}

static int enrolment_from_json(const char *text, HostEnrolment *ret, char **ret_cert_sha256)
{
        _cleanup_json_ json_object *o = json_tokener_parse(text);
        _cleanup_(host_enrolment_done) HostEnrolment e = {};
        _cleanup_free_ char *expires = NULL, *sha = NULL;
        int r;

        if (!o || !json_object_is_type(o, json_type_object))
                return -EBADMSG;
        if ((r = json_dup_string(o, "agentId", &e.agent_id)) < 0 ||
            (r = json_dup_string(o, "tenantId", &e.tenant_id)) < 0 ||
            (r = json_dup_string(o, "workloadId", &e.workload_id)) < 0 ||
            (r = json_dup_string(o, "expiresAt", &expires)) < 0 ||
            (r = json_dup_string(o, "certificateSha256", &sha)) < 0)
                return r;
        if (rfc3339_parse(expires, &e.expires_at) < 0)
                return -EBADMSG;
        *ret = e;
        e = (HostEnrolment){};
        *ret_cert_sha256 = TAKE_PTR(sha);
        return 0;
}

/* Structure only, clock aside: checked at the certificate's own last second of validity. */
static int check_identity(const TlsIdentity *id)
{
        usec_t t = tls_identity_get_not_after(id);
        int r = tls_identity_verify(id, t > USEC_PER_SEC ? t - USEC_PER_SEC : t);

        if (r == -ETIME || r == -EKEYEXPIRED) /* a CA whose window ends first: not our concern here */
                return 0;
        return r < 0 ? -EBADMSG : 0;
}

/* Finishes or discards a save a crash interrupted, as the state file `sha` (of the certificate) says.
 * 0 when the store's files are the state's; 1 when the save was committed but its staged files cannot be
 * renamed by this process (a read-only directory): read them under their staged names. */
static int store_finish_save(int dir_fd, const char *dir, const char *sha)
{
        _cleanup_free_ char *cert = NULL;
        char staged[STAGED_NAME_MAX], actual[SHA256_HEX_SIZE];
        int r;

        r = read_file_at(dir_fd, staged_name(HOST_STORE_CERT_FILE, staged), &cert);
        if (r == -ENOENT) {
                store_remove_staged(dir_fd); /* a key or CA chain staged before a crash, if any */
                return 0;
        }
        if (r == -ENOMEM)
                return r;
        if (r >= 0 && sha256_hex(cert, strlen(cert), actual) >= 0 && streq(actual, sha)) {
                log_debug("Finishing the save of the enrolment in %s that was interrupted.", dir);
                r = store_roll_forward(dir_fd, true);
                if (r == -EROFS || r == -EACCES || r == -EPERM)
                        return 1;
                if (r < 0)
                        return log_debug_errno(r, "Failed to finish the interrupted save in %s: %m", dir);
                return 0;
        }
        log_debug("Removing the staged files of an enrolment save in %s that was interrupted.", dir);
        store_remove_staged(dir_fd);
        return 0;
}

/* One file of the store; with `staged`, its staged copy where there is one. */
static int read_store_file(int dir_fd, const char *name, bool staged, char **ret)
{
        char buf[STAGED_NAME_MAX];
        int r;

        if (staged) {
                r = read_file_at(dir_fd, staged_name(name, buf), ret);
                if (r != -ENOENT)
                        return r;
        }
        return read_file_at(dir_fd, name, ret);
}

/* Opens the store's directory and takes its lock: saves and loads (which may finish a save) of several
 * processes, the agent renewing and 'linuxguard enroll' run by hand, go one at a time. */
static int store_open_locked(const char *dir, bool create)
{
        _cleanup_close_ int fd = open_dir(dir, create);

        if (fd < 0)
                return fd;
        if (flock(fd, LOCK_EX) < 0)
                return -errno;
        store_remove_temp_files(fd);
        return TAKE_FD(fd);
}

/* The certificate hash the state file names, NULL if there is no usable state file. */
static char *store_state_sha(int dir_fd)
{
        _cleanup_free_ char *json = NULL;
        _cleanup_(host_enrolment_done) HostEnrolment e = {};
        char *sha = NULL;

        if (read_file_at(dir_fd, HOST_STORE_ENROLMENT_FILE, &json) < 0 ||
            enrolment_from_json(json, &e, &sha) < 0)
                return NULL;
        return sha;
}

int host_store_save(const char *dir, const TlsIdentity *id, const HostEnrolment *e)
{
        _cleanup_close_ int dir_fd = -EBADF;
        _cleanup_free_ char *json = NULL, *old_sha = NULL;
        const char *key = tls_identity_get_key_pem(id), *cert = tls_identity_get_cert_pem(id),
                   *ca = tls_identity_get_ca_chain_pem(id);
        const char *contents[] = {key, ca, cert}; /* as store_files[] */
        const mode_t modes[] = {0600, 0644, 0644};
        char sha[SHA256_HEX_SIZE], staged[STAGED_NAME_MAX];
        struct stat st;
        int r;

        if (!key || !cert || !ca || isempty(e->agent_id) || isempty(e->tenant_id) || isempty(e->workload_id))
                return -EINVAL;
        r = sha256_hex(cert, strlen(cert), sha);
        if (r < 0)
                return r;
        r = enrolment_to_json(e, e->expires_at ?: tls_identity_get_not_after(id), sha, &json);
        if (r < 0)
                return r;

        dir_fd = store_open_locked(dir, true);
        if (dir_fd < 0)
                return log_debug_errno(dir_fd, "Failed to open %s: %m", dir);
        if (fstat(dir_fd, &st) < 0)
                return -errno;
        /* An earlier save a crash interrupted after its commit is finished first: staging over its files
         * would otherwise leave its state naming a certificate that is nowhere. */
        old_sha = store_state_sha(dir_fd);
        if (old_sha) {
                r = store_finish_save(dir_fd, dir, old_sha);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < ELEMENTSOF(store_files) && r >= 0; i++)
                r = write_file_atomic(dir_fd, staged_name(store_files[i], staged), contents[i], modes[i],
                                      &st);
        if (r >= 0)
                r = RET_NERRNO(fsync(dir_fd));
        if (r >= 0)
                r = write_file_atomic(dir_fd, HOST_STORE_ENROLMENT_FILE, json, 0644, &st);
        if (r < 0) {
                store_remove_staged(dir_fd);
                return r;
        }
        /* Committed: from here on a crash is finished by the next load or save. */
        if (fsync(dir_fd) < 0)
                return -errno;
        return store_roll_forward(dir_fd, false);
}

int host_store_load(const char *dir, TlsIdentity **ret_id, HostEnrolment *ret)
{
        _cleanup_close_ int dir_fd = -EBADF;
        _cleanup_free_ char *json = NULL, *cert = NULL, *ca = NULL, *sha = NULL;
        _cleanup_secret_ char *key = NULL;
        _cleanup_(tls_identity_freep) TlsIdentity *id = NULL;
        _cleanup_(host_enrolment_done) HostEnrolment e = {};
        char actual[SHA256_HEX_SIZE];
        bool staged;
        int r;

        dir_fd = store_open_locked(dir, false);
        if (dir_fd == -ENOENT)
                return 0;
        if (dir_fd < 0)
                return dir_fd;
        r = read_file_at(dir_fd, HOST_STORE_ENROLMENT_FILE, &json);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;

        r = enrolment_from_json(json, &e, &sha);
        if (r < 0)
                return log_debug_errno(r, "%s/%s is not a valid state file.", dir,
                                       HOST_STORE_ENROLMENT_FILE);
        r = store_finish_save(dir_fd, dir, sha);
        if (r < 0)
                return r;
        staged = r > 0;
        if ((r = read_store_file(dir_fd, HOST_STORE_KEY_FILE, staged, &key)) < 0 ||
            (r = read_store_file(dir_fd, HOST_STORE_CERT_FILE, staged, &cert)) < 0 ||
            (r = read_store_file(dir_fd, HOST_STORE_CA_FILE, staged, &ca)) < 0)
                return r == -ENOENT ? -EBADMSG : r;

        r = sha256_hex(cert, strlen(cert), actual);
        if (r < 0)
                return r;
        if (!streq(actual, sha))
                return log_debug_errno(EBADMSG, "%s/%s does not match %s.", dir, HOST_STORE_CERT_FILE,
                                       HOST_STORE_ENROLMENT_FILE);
        r = tls_identity_load(&id, key, cert, ca);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || check_identity(id) < 0)
                return log_debug_errno(EBADMSG, "The identity stored in %s is unusable.", dir);

        *ret_id = TAKE_PTR(id);
        *ret = e;
        e = (HostEnrolment){};
        return 1;
}
