/* The TLS cache on a real tmpfs: layout and modes, reuse, every reason to delete, every refusal, the
 * memory-filesystem check, and crash safety under SIGKILL at random instants. Needs root (mount, chown). */

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#include "check-tap.h"
#include "identity/tls-cache.h"
#include "test-pki.h"

#define WORKLOAD_ID "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define TOKEN       "TOTP-0123456789"
/* printf '%s' 'TOTP-0123456789:0f1e...e1f0' | sha256sum */
#define TAG_A "efb6db7b9273ef2688d589bca41afb21851d2d6d0175040379043e631264334a"
/* printf '%s' 'TOTP-0123456789:other' | sha256sum */
#define TAG_B "2e6cc21911a37f5128fa23d35e78359d2907e9e98d86525e0df137c036e69a2d"

static char tmp[] = "/tmp/test-tls-cache.XXXXXX";
static char root[256], tls[300];
static TestCa ca_a, ca_b;
static TlsIdentity *id_a, *id_b;
static time_t t0;
static char reason[1024];

static TlsIdentity *issued(TestCa *ca)
{
        TlsIdentity *id = NULL;
        _cleanup_free_ char *cert = NULL;

        ck_assert_int_eq(tls_identity_generate(&id, WORKLOAD_ID), 0);
        cert = test_ca_sign_csr(ca, tls_identity_get_csr(id), t0 - 60, t0 + 86400);
        ck_assert_int_eq(tls_identity_set_certificate(id, cert, ca->pem), 0);
        return id;
}

static void setup(void)
{
        t0 = time(NULL);
        ck_assert_ptr_nonnull(mkdtemp(tmp));
        snprintf(root, sizeof(root), "%s/run", tmp);
        snprintf(tls, sizeof(tls), "%s/tls", root);
        ck_assert_int_eq(mkdir(root, 0700), 0);
        ck_assert_msg(mount("tmpfs", root, "tmpfs", 0, "mode=0700") == 0, "mount tmpfs: %m (needs root)");
        test_ca_init(&ca_a, "CA A");
        test_ca_init(&ca_b, "CA B");
        id_a = issued(&ca_a);
        id_b = issued(&ca_b);
        reason[0] = 0;
}

static void teardown(void)
{
        id_a = tls_identity_free(id_a);
        id_b = tls_identity_free(id_b);
        test_ca_done(&ca_a);
        test_ca_done(&ca_b);
        (void)umount2(root, MNT_DETACH);
        (void)rmdir(root);
        (void)rmdir(tmp);
        strcpy(tmp, "/tmp/test-tls-cache.XXXXXX");
}

static usec_t at(time_t t)
{
        return (usec_t)t * USEC_PER_SEC;
}

static char *path_of(const char *name)
{
        static char p[512];
        snprintf(p, sizeof(p), "%s/%s", tls, name);
        return p;
}

static char *slurp(const char *name)
{
        _cleanup_fclose_ FILE *f = fopen(path_of(name), "re");
        char *buf = calloc(1, 65536);

        ck_assert_ptr_nonnull(f);
        ck_assert_ptr_nonnull(buf);
        ck_assert_uint_lt(fread(buf, 1, 65535, f), 65535);
        return buf;
}

static void overwrite(const char *name, const char *content)
{
        _cleanup_fclose_ FILE *f = fopen(path_of(name), "we");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_ge(fputs(content, f), 0);
}

static mode_t mode_of(const char *p)
{
        struct stat st;
        ck_assert_int_eq(lstat(p, &st), 0);
        return st.st_mode;
}

static bool exists(const char *p)
{
        struct stat st;
        return lstat(p, &st) == 0;
}

static int load(const char *tag, usec_t now, TlsIdentity **ret)
{
        return tls_cache_load(root, tag, now, ret, reason, sizeof(reason));
}

static void assert_same_identity(const TlsIdentity *got, const TlsIdentity *want)
{
        ck_assert_str_eq(tls_identity_get_key_pem(got), tls_identity_get_key_pem(want));
        ck_assert_str_eq(tls_identity_get_cert_pem(got), tls_identity_get_cert_pem(want));
        ck_assert_str_eq(tls_identity_get_ca_chain_pem(got), tls_identity_get_ca_chain_pem(want));
}

START_TEST(test_tag_vector)
{
        char tag[TLS_CACHE_TAG_SIZE];

        ck_assert_int_eq(tls_cache_tag(TOKEN, WORKLOAD_ID, tag), 0);
        ck_assert_str_eq(tag, TAG_A);
        ck_assert_int_eq(tls_cache_tag(TOKEN, "other", tag), 0);
        ck_assert_str_eq(tag, TAG_B);
        ck_assert_int_eq(tls_cache_tag("", WORKLOAD_ID, tag), -EINVAL);
        ck_assert_int_eq(tls_cache_tag(TOKEN, "", tag), -EINVAL);
        ck_assert_str_eq(
                TLS_CACHE_NEEDS_TOKEN_MESSAGE,
                "--tls-cache requires LINUXGUARD_ENROLL_TOKEN (or pre-computed EnrollTokenTag) to be "
                "set; refusing to seed a cache that cannot be cryptographically invalidated.");
}
END_TEST

START_TEST(test_store_layout)
{
        _cleanup_free_ char *tag = NULL, *crt = NULL, *key = NULL, *ca = NULL;
        static const char *const files[] = {TLS_CACHE_CERT, TLS_CACHE_KEY, TLS_CACHE_CA, TLS_CACHE_TAG};
        DIR *d;
        int n = 0;

        umask(0022);
        ck_assert_int_eq(tls_cache_store(root, TAG_A, id_a), 0);
        ck_assert_uint_eq(mode_of(tls), S_IFDIR | 0700);
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                ck_assert_uint_eq(mode_of(path_of(files[i])), S_IFREG | 0600);

        tag = slurp(TLS_CACHE_TAG);
        ck_assert_str_eq(tag, TAG_A); /* 64 hex, no newline */
        crt = slurp(TLS_CACHE_CERT);
        key = slurp(TLS_CACHE_KEY);
        ca = slurp(TLS_CACHE_CA);
        ck_assert_str_eq(crt, tls_identity_get_cert_pem(id_a));
        ck_assert_str_eq(key, tls_identity_get_key_pem(id_a));
        ck_assert_str_eq(ca, ca_a.pem);

        /* Exactly the four files: no temp file left behind. */
        d = opendir(tls);
        ck_assert_ptr_nonnull(d);
        for (struct dirent *de; (de = readdir(d));)
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        ck_assert_int_eq(n, 4);
}
END_TEST

START_TEST(test_reuse_and_replace)
{
        _cleanup_(tls_identity_freep) TlsIdentity *got = NULL;

        ck_assert_int_eq(load(TAG_A, at(t0), &got), 0);
        ck_assert_msg(strstr(reason, "no TLS cache in"), "%s", reason);

        ck_assert_int_eq(tls_cache_store(root, TAG_A, id_a), 0);
        ck_assert_int_eq(load(TAG_A, at(t0), &got), 1);
        assert_same_identity(got, id_a);
        ck_assert_int_eq(tls_identity_verify(got, at(t0)), 0);
        got = tls_identity_free(got);

        /* Replacing an existing cache. */
        ck_assert_int_eq(tls_cache_store(root, TAG_B, id_b), 0);
        ck_assert_int_eq(load(TAG_B, at(t0), &got), 1);
        assert_same_identity(got, id_b);
}
END_TEST

/* Each way a cache goes stale: 0, the directory deleted, and the reason. */
static void assert_deleted(const char *tag, usec_t now, const char *why)
{
        TlsIdentity *got = NULL;
        char want[1024];

        ck_assert_int_eq(load(tag, now, &got), 0);
        ck_assert_ptr_null(got);
        ck_assert(!exists(tls));
        snprintf(want, sizeof(want), "deleted the TLS cache %s: %s", tls, why);
        ck_assert_str_eq(reason, want);
}

START_TEST(test_stale_deleted)
{
        ck_assert_int_eq(tls_cache_store(root, TAG_A, id_a), 0);
        assert_deleted(TAG_B, at(t0),
                       "its tag differs (the enrolment token was rotated or the workload id changed)");

        ck_assert_int_eq(tls_cache_store(root, TAG_A, id_a), 0);
        overwrite(TLS_CACHE_CERT, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
        assert_deleted(TAG_A, at(t0), "its key, certificate or CA chain does not parse");

        ck_assert_int_eq(tls_cache_store(root, TAG_A, id_a), 0);
        assert_deleted(TAG_A, at(t0 + 2 * 86400), "its certificate is unusable: certificate expired");

        ck_assert_int_eq(tls_cache_store(root, TAG_A, id_a), 0);
        overwrite(TLS_CACHE_CA, ca_b.pem);
        assert_deleted(TAG_A, at(t0), "its certificate is unusable: certificate does not chain to the CA");

        ck_assert_int_eq(tls_cache_store(root, TAG_A, id_a), 0);
        overwrite(TLS_CACHE_KEY, tls_identity_get_key_pem(id_b));
        assert_deleted(TAG_A, at(t0),
                       "its certificate is unusable: certificate does not match the private key");

        ck_assert_int_eq(tls_cache_store(root, TAG_A, id_a), 0);
        ck_assert_int_eq(unlink(path_of(TLS_CACHE_TAG)), 0);
        assert_deleted(TAG_A, at(t0), "tls/.tag is missing (an interrupted write)");

        ck_assert_int_eq(tls_cache_store(root, TAG_A, id_a), 0);
        ck_assert_int_eq(unlink(path_of(TLS_CACHE_CA)), 0);
        assert_deleted(TAG_A, at(t0), "tls/ca.crt is missing (an interrupted write)");
}
END_TEST

static void assert_refused(int want_r, const char *want_reason)
{
        TlsIdentity *got = NULL;

        ck_assert_int_eq(load(TAG_A, at(t0), &got), want_r);
        ck_assert_ptr_null(got);
        ck_assert_str_eq(reason, want_reason);
        ck_assert(exists(tls)); /* refused, not deleted */
}

START_TEST(test_refusals)
{
        char want[1024], target[512];

        ck_assert_int_eq(tls_cache_store(root, TAG_A, id_a), 0);
        ck_assert_int_eq(chown(tls, 65534, 65534), 0);
        snprintf(want, sizeof(want),
                 "TLS cache %s/tls is owned by uid 65534, not by the agent's uid 0; refusing to use it. "
                 "Remove it, or fix its owner.",
                 root);
        assert_refused(-EPERM, want);
        ck_assert_int_eq(tls_cache_store(root, TAG_A, id_a), -EPERM);
        ck_assert_int_eq(chown(tls, 0, 0), 0);

        ck_assert_int_eq(chmod(tls, 0750), 0);
        snprintf(want, sizeof(want),
                 "TLS cache %s/tls has mode 0750, so group or others have access; refusing to use it. "
                 "Remove it, or chmod 0700.",
                 root);
        assert_refused(-EPERM, want);
        ck_assert_int_eq(tls_cache_store(root, TAG_A, id_a), -EPERM);
        ck_assert_int_eq(chmod(tls, 0700), 0);

        ck_assert_int_eq(chmod(path_of(TLS_CACHE_KEY), 0640), 0);
        snprintf(want, sizeof(want),
                 "TLS cache %s/tls/agent.key has mode 0640, so group or others have access; refusing to use "
                 "it. Remove it, or chmod 0600.",
                 root);
        assert_refused(-EPERM, want);
        ck_assert_int_eq(chmod(path_of(TLS_CACHE_KEY), 0600), 0);

        ck_assert_int_eq(chown(path_of(TLS_CACHE_CERT), 65534, 0), 0);
        snprintf(want, sizeof(want),
                 "TLS cache %s/tls/agent.crt is owned by uid 65534, not by the agent's uid 0; refusing to "
                 "use it. Remove it, or fix its owner.",
                 root);
        assert_refused(-EPERM, want);

        /* A symlinked file. */
        snprintf(target, sizeof(target), "%s/elsewhere.crt", root);
        ck_assert_int_eq(rename(path_of(TLS_CACHE_CERT), target), 0);
        ck_assert_int_eq(symlink(target, path_of(TLS_CACHE_CERT)), 0);
        snprintf(want, sizeof(want), "TLS cache %s/tls/agent.crt is a symbolic link; refusing to follow it.",
                 root);
        assert_refused(-ELOOP, want);

        /* A symlinked directory, even to a perfectly good cache. */
        ck_assert_int_eq(unlink(path_of(TLS_CACHE_CERT)), 0);
        ck_assert_int_eq(tls_cache_store(root, TAG_A, id_a), 0);
        snprintf(target, sizeof(target), "%s/real", root);
        ck_assert_int_eq(rename(tls, target), 0);
        ck_assert_int_eq(symlink("real", tls), 0);
        snprintf(want, sizeof(want), "TLS cache %s/tls is a symbolic link; refusing to follow it.", root);
        assert_refused(-ELOOP, want);
        ck_assert_int_eq(tls_cache_store(root, TAG_A, id_a), -ELOOP);
        ck_assert_uint_eq(mode_of(tls) & S_IFMT, S_IFLNK);
}
END_TEST

START_TEST(test_not_a_directory)
{
        char want[1024];
        int fd;

        fd = open(tls, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        close(fd);
        snprintf(want, sizeof(want), "TLS cache %s/tls is not a directory; refusing to use it.", root);
        assert_refused(-ENOTDIR, want);
}
END_TEST

START_TEST(test_memory_fs)
{
        char error[2048], want[2048], disk[] = "/var/tmp/test-tls-cache-disk.XXXXXX", missing[300];
        struct statfs sfs;

        ck_assert_int_eq(tls_cache_check_memory_fs(root, error, sizeof(error)), 0);

        ck_assert_ptr_nonnull(mkdtemp(disk));
        ck_assert_int_eq(statfs(disk, &sfs), 0);
        if ((unsigned long)sfs.f_type != TMPFS_MAGIC) {
                ck_assert_int_eq(tls_cache_check_memory_fs(disk, error, sizeof(error)), -EMEDIUMTYPE);
                ck_assert_msg(strstr(error, "--tls-cache needs a memory filesystem at "), "%s", error);
                snprintf(want, sizeof(want),
                         ", where the certificate and private key would survive on disk. Mount a tmpfs "
                         "there: "
                         "--tmpfs %s:mode=0700,size=10m (docker/podman), or an emptyDir: {medium: Memory} "
                         "volume mounted at %s (Kubernetes).",
                         disk, disk);
                ck_assert_msg(strstr(error, want), "%s", error);
        }
        ck_assert_int_eq(rmdir(disk), 0);

        snprintf(missing, sizeof(missing), "%s/nope", root);
        ck_assert_int_eq(tls_cache_check_memory_fs(missing, error, sizeof(error)), -ENOENT);
        snprintf(want, sizeof(want),
                 "--tls-cache needs a memory filesystem mounted at %s, but it cannot be checked (No such "
                 "file "
                 "or directory). Mount a tmpfs there: --tmpfs %s:mode=0700,size=10m (docker/podman), or an "
                 "emptyDir: {medium: Memory} volume mounted at %s (Kubernetes).",
                 missing, missing, missing);
        ck_assert_str_eq(error, want);
}
END_TEST

/* The keys live in MADV_WIPEONFORK memory, so the child rebuilds both identities from plain copies. */
_noreturn_ static void store_forever(char *const pem[2][3], int ready_fd)
{
        TlsIdentity *ids[2] = {};

        for (int k = 0; k < 2; k++)
                if (tls_identity_load(&ids[k], pem[k][0], pem[k][1], pem[k][2]) < 0)
                        _exit(1);
        close(ready_fd); /* the parent's read() returns: kills now land in the store loop */
        for (unsigned i = 0;; i++)
                if (tls_cache_store(root, i % 2 ? TAG_B : TAG_A, ids[i % 2]) < 0)
                        _exit(1);
}

/* SIGKILL a storing child at random instants: afterwards there is either a complete cache matching its
 * .tag, byte for byte, or no .tag and load() deletes what is there. Never a mix. */
START_TEST(test_kill_during_store)
{
        unsigned complete = 0, incomplete = 0;
        char *pem[2][3];

        for (int k = 0; k < 2; k++) {
                const TlsIdentity *id = k ? id_b : id_a;
                pem[k][0] = strdup(tls_identity_get_key_pem(id));
                pem[k][1] = strdup(tls_identity_get_cert_pem(id));
                pem[k][2] = strdup(tls_identity_get_ca_chain_pem(id));
        }
        srand((unsigned)getpid());
        for (int round = 0; round < 200; round++) {
                _cleanup_free_ char *tag = NULL;
                TlsIdentity *got = NULL;
                int status, ready[2];
                char c;
                pid_t pid;

                ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
                pid = fork();
                ck_assert_int_ge(pid, 0);
                if (pid == 0) {
                        close(ready[0]);
                        store_forever(pem, ready[1]);
                }
                close(ready[1]);
                ck_assert_int_eq(read(ready[0], &c, 1), 0); /* EOF: ready, or dead (then waitpid says) */
                close(ready[0]);
                usleep((useconds_t)(rand() % 3000));
                ck_assert_int_eq(kill(pid, SIGKILL), 0);
                ck_assert_int_eq(waitpid(pid, &status, 0), pid);
                ck_assert_msg(WIFSIGNALED(status), "the storing child failed: %d", status);

                if (!exists(path_of(TLS_CACHE_TAG))) {
                        ck_assert_int_eq(load(TAG_A, at(t0), &got), 0);
                        ck_assert(!exists(tls));
                        incomplete++;
                        continue;
                }
                tag = slurp(TLS_CACHE_TAG);
                ck_assert_msg(streq(tag, TAG_A) || streq(tag, TAG_B), "torn .tag: '%s'", tag);
                ck_assert_msg(load(tag, at(t0), &got) == 1, "round %d: %s", round, reason);
                assert_same_identity(got, streq(tag, TAG_A) ? id_a : id_b);
                got = tls_identity_free(got);
                complete++;
        }
        printf("# %u kills left a complete cache, %u an incomplete one\n", complete, incomplete);
        ck_assert_uint_gt(complete, 0);
        ck_assert_uint_gt(incomplete, 0);
        for (int k = 0; k < 2; k++)
                for (int j = 0; j < 3; j++)
                        free(pem[k][j]);
}
END_TEST

static Suite *tls_cache_suite(void)
{
        Suite *s = suite_create("tls-cache");
        TCase *tc = tcase_create("tmpfs");

        tcase_set_timeout(tc, 60);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_tag_vector);
        tcase_add_test(tc, test_store_layout);
        tcase_add_test(tc, test_reuse_and_replace);
        tcase_add_test(tc, test_stale_deleted);
        tcase_add_test(tc, test_refusals);
        tcase_add_test(tc, test_not_a_directory);
        tcase_add_test(tc, test_memory_fs);
        tcase_add_test(tc, test_kill_during_store);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        if (geteuid() != 0)
                return tap_skip_all_unless_ci("needs root to mount a tmpfs and chown");
        return run_suite_tap(tls_cache_suite());
}
