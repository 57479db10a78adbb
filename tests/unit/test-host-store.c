/* The host store: round trip, modes, nothing stored, and every way a stored enrolment can be unusable. */

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "check-tap.h"
#include "identity/host-store.h"
#include "test-pki.h"

#define WORKLOAD_ID "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"

static TestCa ca;
static char base[] = "/tmp/test-host-store-XXXXXX";
static char dir[300];

static void setup(void)
{
        test_ca_init(&ca, "host store test CA");
        ck_assert_ptr_nonnull(mkdtemp(base));
        snprintf(dir, sizeof(dir), "%s/state", base);
}

static void teardown(void)
{
        char cmd[400];

        test_ca_done(&ca);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
        ck_assert_int_eq(system(cmd), 0);
        strcpy(base, "/tmp/test-host-store-XXXXXX");
}

static TlsIdentity *issued(time_t from, time_t until)
{
        TlsIdentity *id = NULL;
        _cleanup_free_ char *cert = NULL;

        ck_assert_int_eq(tls_identity_generate(&id, WORKLOAD_ID), 0);
        cert = test_ca_sign_csr(&ca, tls_identity_get_csr(id), from, until);
        ck_assert_int_eq(tls_identity_set_certificate(id, cert, ca.pem), 0);
        return id;
}

static const HostEnrolment enrolment = {
        .agent_id = (char *)"3f2b7a1e-0000-4000-8000-000000000001",
        .tenant_id = (char *)"acme",
        .workload_id = (char *)WORKLOAD_ID,
};

static mode_t mode_of(const char *name)
{
        char p[400];
        struct stat st;

        snprintf(p, sizeof(p), "%s/%s", dir, name);
        ck_assert_int_eq(stat(p, &st), 0);
        return st.st_mode & 07777;
}

static void put_file(const char *name, const char *content)
{
        char p[400];
        FILE *f;

        snprintf(p, sizeof(p), "%s/%s", dir, name);
        ck_assert_ptr_nonnull(f = fopen(p, "w"));
        fputs(content, f);
        fclose(f);
}

START_TEST(test_nothing_stored)
{
        TlsIdentity *id = NULL;
        HostEnrolment e = {};

        ck_assert_int_eq(host_store_load(dir, &id, &e), 0); /* no directory */
        ck_assert_int_eq(mkdir(dir, 0700), 0);
        ck_assert_int_eq(host_store_load(dir, &id, &e), 0); /* empty directory */
        ck_assert_ptr_null(id);
        ck_assert_ptr_null(e.agent_id);
}
END_TEST

START_TEST(test_round_trip)
{
        _cleanup_(tls_identity_freep) TlsIdentity *id = issued(time(NULL) - 60, time(NULL) + 3600);
        _cleanup_(tls_identity_freep) TlsIdentity *loaded = NULL;
        _cleanup_(host_enrolment_done) HostEnrolment e = {};
        struct stat st;

        ck_assert_int_eq(host_store_save(dir, id, &enrolment), 0);
        ck_assert_int_eq(stat(dir, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0700);
        ck_assert_int_eq(mode_of(HOST_STORE_KEY_FILE), 0600);
        ck_assert_int_eq(mode_of(HOST_STORE_CERT_FILE), 0644);
        ck_assert_int_eq(mode_of(HOST_STORE_CA_FILE), 0644);
        ck_assert_int_eq(mode_of(HOST_STORE_ENROLMENT_FILE), 0644);

        ck_assert_int_eq(host_store_load(dir, &loaded, &e), 1);
        ck_assert_str_eq(e.agent_id, enrolment.agent_id);
        ck_assert_str_eq(e.tenant_id, "acme");
        ck_assert_str_eq(e.workload_id, WORKLOAD_ID);
        /* expires_at 0 means the certificate's notAfter; the file keeps whole seconds. */
        ck_assert_uint_eq(e.expires_at, tls_identity_get_not_after(id) / USEC_PER_SEC * USEC_PER_SEC);
        ck_assert_str_eq(tls_identity_get_key_pem(loaded), tls_identity_get_key_pem(id));
        ck_assert_str_eq(tls_identity_get_cert_pem(loaded), tls_identity_get_cert_pem(id));
        ck_assert_str_eq(tls_identity_get_ca_chain_pem(loaded), ca.pem);
        ck_assert_int_eq(tls_identity_verify(loaded, now(CLOCK_REALTIME)), 0);
}
END_TEST

/* A second save replaces everything; no temporary files are left; a loose directory is tightened. */
START_TEST(test_overwrite_and_tighten)
{
        _cleanup_(tls_identity_freep) TlsIdentity *a = issued(time(NULL) - 60, time(NULL) + 3600);
        _cleanup_(tls_identity_freep) TlsIdentity *b = issued(time(NULL) - 60, time(NULL) + 7200);
        _cleanup_(tls_identity_freep) TlsIdentity *loaded = NULL;
        _cleanup_(host_enrolment_done) HostEnrolment e = {};
        char cmd[400];

        ck_assert_int_eq(mkdir(dir, 0755), 0);
        ck_assert_int_eq(host_store_save(dir, a, &enrolment), 0);
        ck_assert_int_eq(host_store_save(dir, b, &enrolment), 0);
        ck_assert_int_eq(mode_of("."), 0700);
        snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 4", dir);
        ck_assert_int_eq(system(cmd), 0);
        ck_assert_int_eq(host_store_load(dir, &loaded, &e), 1);
        ck_assert_str_eq(tls_identity_get_cert_pem(loaded), tls_identity_get_cert_pem(b));
}
END_TEST

/* Loading does not judge the clock: an expired enrolment loads, the caller decides. */
START_TEST(test_expired_still_loads)
{
        _cleanup_(tls_identity_freep) TlsIdentity *id = issued(time(NULL) - 7200, time(NULL) - 3600);
        _cleanup_(tls_identity_freep) TlsIdentity *loaded = NULL;
        _cleanup_(host_enrolment_done) HostEnrolment e = {};

        ck_assert_int_eq(host_store_save(dir, id, &enrolment), 0);
        ck_assert_int_eq(host_store_load(dir, &loaded, &e), 1);
        ck_assert_int_eq(tls_identity_verify(loaded, now(CLOCK_REALTIME)), -EKEYEXPIRED);
}
END_TEST

static void assert_unusable(void)
{
        TlsIdentity *id = NULL;
        HostEnrolment e = {};

        ck_assert_int_eq(host_store_load(dir, &id, &e), -EBADMSG);
        ck_assert_ptr_null(id);
        ck_assert_ptr_null(e.agent_id);
}

START_TEST(test_missing_key)
{
        _cleanup_(tls_identity_freep) TlsIdentity *id = issued(time(NULL) - 60, time(NULL) + 3600);
        char p[400];

        ck_assert_int_eq(host_store_save(dir, id, &enrolment), 0);
        snprintf(p, sizeof(p), "%s/%s", dir, HOST_STORE_KEY_FILE);
        ck_assert_int_eq(unlink(p), 0);
        assert_unusable();
}
END_TEST

/* A save interrupted after the key was renamed: new key, old certificate. */
START_TEST(test_half_saved_key_mismatch)
{
        _cleanup_(tls_identity_freep) TlsIdentity *a = issued(time(NULL) - 60, time(NULL) + 3600);
        _cleanup_(tls_identity_freep) TlsIdentity *b = issued(time(NULL) - 60, time(NULL) + 3600);

        ck_assert_int_eq(host_store_save(dir, a, &enrolment), 0);
        put_file(HOST_STORE_KEY_FILE, tls_identity_get_key_pem(b));
        assert_unusable();
}
END_TEST

/* Interrupted before the state file: key and certificate new and matching, the state names the old. */
START_TEST(test_half_saved_state_mismatch)
{
        _cleanup_(tls_identity_freep) TlsIdentity *a = issued(time(NULL) - 60, time(NULL) + 3600);
        _cleanup_(tls_identity_freep) TlsIdentity *b = issued(time(NULL) - 60, time(NULL) + 3600);

        ck_assert_int_eq(host_store_save(dir, a, &enrolment), 0);
        put_file(HOST_STORE_KEY_FILE, tls_identity_get_key_pem(b));
        put_file(HOST_STORE_CERT_FILE, tls_identity_get_cert_pem(b));
        assert_unusable();
}
END_TEST

/* Crash states of a save of identity b over a stored identity a, as host_store_save() leaves them: the
 * key, CA chain and certificate staged under hidden names, then the state file (the commit), then the
 * renames over the old files, the certificate last. */
static const char *staged(const char *name)
{
        static char buf[3][64];
        static unsigned n;
        char *p = buf[n++ % 3];

        snprintf(p, sizeof(buf[0]), ".%s.new", name);
        return p;
}

static void put_key(const char *name, const TlsIdentity *b)
{
        char p[400];

        put_file(name, tls_identity_get_key_pem(b));
        snprintf(p, sizeof(p), "%s/%s", dir, name);
        ck_assert_int_eq(chmod(p, 0600), 0);
}

static void stage(const TlsIdentity *b, bool key, bool ca_chain, bool cert)
{
        if (key)
                put_key(staged(HOST_STORE_KEY_FILE), b);
        if (ca_chain)
                put_file(staged(HOST_STORE_CA_FILE), tls_identity_get_ca_chain_pem(b));
        if (cert)
                put_file(staged(HOST_STORE_CERT_FILE), tls_identity_get_cert_pem(b));
}

/* The state file a save of `b` commits, taken from a save into another directory. */
static void commit_state_of(const TlsIdentity *b)
{
        char other[300], p[400], cmd[1000];

        snprintf(other, sizeof(other), "%s/other", base);
        ck_assert_int_eq(host_store_save(other, b, &enrolment), 0);
        snprintf(p, sizeof(p), "%s/%s", other, HOST_STORE_ENROLMENT_FILE);
        snprintf(cmd, sizeof(cmd), "cp '%s' '%s/%s'", p, dir, HOST_STORE_ENROLMENT_FILE);
        ck_assert_int_eq(system(cmd), 0);
}

/* Loads and expects `want`, with exactly the four files left behind. */
static void assert_loads(const TlsIdentity *want)
{
        _cleanup_(tls_identity_freep) TlsIdentity *loaded = NULL;
        _cleanup_(host_enrolment_done) HostEnrolment e = {};
        char cmd[400];

        ck_assert_int_eq(host_store_load(dir, &loaded, &e), 1);
        ck_assert_str_eq(tls_identity_get_cert_pem(loaded), tls_identity_get_cert_pem(want));
        ck_assert_str_eq(tls_identity_get_key_pem(loaded), tls_identity_get_key_pem(want));
        snprintf(cmd, sizeof(cmd),
                 "test \"$(ls -A '%s' | tr '\\n' ' ')\" = 'agent.crt agent.key ca.crt enrolment.json '",
                 dir);
        ck_assert_int_eq(system(cmd), 0);
        ck_assert_int_eq(mode_of(HOST_STORE_KEY_FILE), 0600);
}

/* a, saved in the store, and b, the identity a save is replacing it with. */
static void stored_and_next(TlsIdentity **a, TlsIdentity **b)
{
        *a = issued(time(NULL) - 60, time(NULL) + 3600);
        *b = issued(time(NULL) - 60, time(NULL) + 7200);
        ck_assert_int_eq(host_store_save(dir, *a, &enrolment), 0);
}

/* "..agent.crt.new.tmp-PID" of a save killed mid-write were never removed: one more per crash. */
START_TEST(test_stale_temp_files_removed)
{
        _cleanup_(tls_identity_freep) TlsIdentity *a = NULL, *b = NULL;
        _cleanup_(tls_identity_freep) TlsIdentity *loaded = NULL;
        _cleanup_(host_enrolment_done) HostEnrolment e = {};
        static const char *const stale[] = {"..agent.crt.new.tmp-4242", ".enrolment.json.tmp-1",
                                            "..agent.key.new.tmp-99999"};
        char p[400];

        stored_and_next(&a, &b);
        for (size_t i = 0; i < ELEMENTSOF(stale); i++)
                put_file(stale[i], "partial");
        assert_loads(a); /* the directory holds the four store files and nothing else */
        put_file(stale[0], "partial");
        ck_assert_int_eq(host_store_save(dir, b, &enrolment), 0);
        assert_loads(b);

        /* Only our own pattern goes: hidden, ".tmp-", digits to the end. */
        put_file(".enrolment.json.tmp-12x", "kept");
        put_file("notes.tmp-1", "kept");
        ck_assert_int_eq(host_store_load(dir, &loaded, &e), 1);
        snprintf(p, sizeof(p), "%s/.enrolment.json.tmp-12x", dir);
        ck_assert_int_eq(unlink(p), 0);
        snprintf(p, sizeof(p), "%s/notes.tmp-1", dir);
        ck_assert_int_eq(unlink(p), 0);
}
END_TEST

START_TEST(test_crash_while_staging)
{
        _cleanup_(tls_identity_freep) TlsIdentity *a = NULL, *b = NULL;

        stored_and_next(&a, &b);
        stage(b, true, false, false);
        assert_loads(a);
        stage(b, true, true, true); /* everything staged, the state file not yet replaced */
        assert_loads(a);
}
END_TEST

START_TEST(test_crash_after_commit)
{
        _cleanup_(tls_identity_freep) TlsIdentity *a = NULL, *b = NULL;

        stored_and_next(&a, &b);
        stage(b, true, true, true);
        commit_state_of(b);
        assert_loads(b);
        assert_loads(b); /* and it stays so */
}
END_TEST

/* The key and CA chain renamed already, the certificate not. */
START_TEST(test_crash_while_renaming)
{
        _cleanup_(tls_identity_freep) TlsIdentity *a = NULL, *b = NULL;

        stored_and_next(&a, &b);
        stage(b, false, false, true);
        commit_state_of(b);
        put_key(HOST_STORE_KEY_FILE, b);
        assert_loads(b);
}
END_TEST

/* A committed save left unfinished, loaded by a process that cannot write the directory (here a
 * read-only bind mount in a private mount namespace): it reads the staged files. Skipped (a TAP skip, a
 * failure in CI) without the privilege to mount. */
START_TEST(test_unfinished_save_read_only)
{
        _cleanup_(tls_identity_freep) TlsIdentity *a = NULL, *b = NULL;
        int status;
        pid_t pid;

        stored_and_next(&a, &b);
        stage(b, true, true, true);
        commit_state_of(b);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                TlsIdentity *loaded = NULL;
                HostEnrolment e = {};

                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount(dir, dir, NULL, MS_BIND, NULL) < 0 ||
                    mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
                        _exit(77);
                if (host_store_load(dir, &loaded, &e) != 1)
                        _exit(1);
                _exit(streq(tls_identity_get_cert_pem(loaded), tls_identity_get_cert_pem(b)) ? 0 : 2);
        }
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
                tap_skip_unless_ci("needs a private mount namespace and the privilege to mount");
        ck_assert_int_eq(WEXITSTATUS(status), 0);
        assert_loads(b); /* and a process that can write finishes the save */
}
END_TEST

START_TEST(test_bad_state_file)
{
        _cleanup_(tls_identity_freep) TlsIdentity *id = issued(time(NULL) - 60, time(NULL) + 3600);

        ck_assert_int_eq(host_store_save(dir, id, &enrolment), 0);
        put_file(HOST_STORE_ENROLMENT_FILE, "{\"agentId\":\"x\"}");
        assert_unusable();
        put_file(HOST_STORE_ENROLMENT_FILE, "not json");
        assert_unusable();
}
END_TEST

START_TEST(test_save_refuses_incomplete)
{
        _cleanup_(tls_identity_freep) TlsIdentity *bare = NULL;
        _cleanup_(tls_identity_freep) TlsIdentity *id = issued(time(NULL) - 60, time(NULL) + 3600);
        HostEnrolment no_agent = enrolment;

        ck_assert_int_eq(tls_identity_generate(&bare, WORKLOAD_ID), 0);
        ck_assert_int_eq(host_store_save(dir, bare, &enrolment), -EINVAL); /* no certificate yet */
        no_agent.agent_id = NULL;
        ck_assert_int_eq(host_store_save(dir, id, &no_agent), -EINVAL);
        ck_assert_int_eq(access(dir, F_OK), -1); /* nothing written */
}
END_TEST

START_TEST(test_format_rfc3339)
{
        char buf[64];

        ck_assert_str_eq(format_rfc3339(0, buf, sizeof(buf)), "1970-01-01T00:00:00Z");
        ck_assert_str_eq(format_rfc3339(1738324800ULL * USEC_PER_SEC + 999, buf, sizeof(buf)),
                         "2025-01-31T12:00:00Z");
}
END_TEST

/* Root saving into a directory owned by the agent's user hands the files to that user. */
START_TEST(test_files_follow_directory_owner)
{
        _cleanup_(tls_identity_freep) TlsIdentity *id = issued(time(NULL) - 60, time(NULL) + 3600);
        char p[400];
        struct stat st;

        if (geteuid() != 0)
                tap_skip_unless_ci("needs root to chown");
        ck_assert_int_eq(mkdir(dir, 0700), 0);
        ck_assert_int_eq(chown(dir, 4242, 4343), 0);
        ck_assert_int_eq(host_store_save(dir, id, &enrolment), 0);
        snprintf(p, sizeof(p), "%s/%s", dir, HOST_STORE_KEY_FILE);
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_int_eq(st.st_uid, 4242);
        ck_assert_int_eq(st.st_gid, 4343);
}
END_TEST

static Suite *host_store_suite(void)
{
        Suite *s = suite_create("host-store");
        TCase *tc = tcase_create("host-store");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_nothing_stored);
        tcase_add_test(tc, test_round_trip);
        tcase_add_test(tc, test_overwrite_and_tighten);
        tcase_add_test(tc, test_expired_still_loads);
        tcase_add_test(tc, test_missing_key);
        tcase_add_test(tc, test_half_saved_key_mismatch);
        tcase_add_test(tc, test_half_saved_state_mismatch);
        tcase_add_test(tc, test_stale_temp_files_removed);
        tcase_add_test(tc, test_crash_while_staging);
        tcase_add_test(tc, test_crash_after_commit);
        tcase_add_test(tc, test_crash_while_renaming);
        tcase_add_test(tc, test_unfinished_save_read_only);
        tcase_add_test(tc, test_bad_state_file);
        tcase_add_test(tc, test_save_refuses_incomplete);
        tcase_add_test(tc, test_format_rfc3339);
        tcase_add_test(tc, test_files_follow_directory_owner);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(host_store_suite)
