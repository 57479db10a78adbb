/* The config loader's edges: what kind of file it reads, how big, whose, and which bytes in it; the
 * identity and URL values it refuses from any layer; where a secret setting is kept. */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check-tap.h"
#include "core/cli.h"
#include "core/config-file.h"
#include "core/settings.h"
#include "util/macro.h"
#include "util/secure-mem.h"

static char dir[] = "/tmp/test-config-file-XXXXXX";

static void setup(void)
{
        ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ck_assert_int_eq(system(cmd), 0);
        memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
}

static const char *write_conf(const char *name, const void *data, size_t size, mode_t mode)
{
        static char path[256];
        int fd;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, data, size), (ssize_t)size);
        ck_assert_int_eq(fchmod(fd, mode), 0);
        close(fd);
        return path;
}

static int load(const char *path, char *err, size_t size)
{
        _cleanup_(settings_done) Settings s = {};

        err[0] = '\0';
        return config_file_load(path, true, &s, err, size);
}

/* A FIFO once blocked the agent forever in open(); a directory gave a scanner message without the file. */
START_TEST(test_not_a_regular_file)
{
        char path[256], err[512], want[512];

        snprintf(path, sizeof(path), "%s/fifo", dir);
        ck_assert_int_eq(mkfifo(path, 0600), 0);
        alarm(5); /* the old loader never returns here: fail instead of hanging the suite */
        ck_assert_int_eq(load(path, err, sizeof(err)), -EINVAL);
        alarm(0);
        snprintf(want, sizeof(want), "%s: not a regular file (it is a FIFO)", path);
        ck_assert_str_eq(err, want);

        ck_assert_int_eq(load(dir, err, sizeof(err)), -EINVAL);
        snprintf(want, sizeof(want), "%s: not a regular file (it is a directory)", dir);
        ck_assert_str_eq(err, want);
}
END_TEST

/* libconfig's scanner is quadratic in a token's length (a 4 MB comment took 8 s): 1 MiB at most. */
START_TEST(test_size_limit)
{
        size_t n = CONFIG_FILE_MAX_SIZE + 1;
        _cleanup_free_ char *text = malloc(n);
        const char *path;
        char err[512], want[512];

        ck_assert_ptr_nonnull(text);
        /* Lines of comment, each 64 bytes: the largest accepted file still loads. */
        for (size_t i = 0; i < n; i++)
                text[i] = i % 64 == 0 ? '#' : i % 64 == 63 ? '\n' : 'x';
        path = write_conf("big.conf", text, CONFIG_FILE_MAX_SIZE, 0644);
        ck_assert_int_eq(load(path, err, sizeof(err)), 0);
        path = write_conf("big.conf", text, n, 0644);
        ck_assert_int_eq(load(path, err, sizeof(err)), -EFBIG);
        snprintf(want, sizeof(want), "%s: the file is %zu bytes, over the limit of 1 MiB (1048576 bytes)",
                 path, n);
        ck_assert_str_eq(err, want);
}
END_TEST

/* Whoever can write the config picks the API the agent trusts: sshd's StrictModes. */
START_TEST(test_owner_and_mode)
{
        static const char text[] = "tenant_id = \"t\";\n";
        const char *path;
        char err[512], want[512];

        path = write_conf("a.conf", text, strlen(text), 0644);
        ck_assert_int_eq(load(path, err, sizeof(err)), 0);
        path = write_conf("a.conf", text, strlen(text), 0600);
        ck_assert_int_eq(load(path, err, sizeof(err)), 0);

        for (mode_t m = 0; m < 2; m++) {
                path = write_conf("a.conf", text, strlen(text), m ? 0646 : 0664);
                ck_assert_int_eq(load(path, err, sizeof(err)), -EPERM);
                snprintf(want, sizeof(want),
                         "%s: refusing a config file writable by group or others (fix: chmod go-w %s)", path,
                         path);
                ck_assert_str_eq(err, want);
        }

        if (geteuid() != 0)
                return; /* giving a file away needs root */
        path = write_conf("a.conf", text, strlen(text), 0644);
        ck_assert_int_eq(chown(path, 65534, 65534), 0);
        ck_assert_int_eq(load(path, err, sizeof(err)), -EPERM);
        snprintf(want, sizeof(want),
                 "%s: refusing a config file owned by uid 65534, neither root nor the agent's uid 0 (fix: "
                 "chown root %s)",
                 path, path);
        ck_assert_str_eq(err, want);
}
END_TEST

/* A NUL byte silently cut a string short; the loader names the line instead. */
START_TEST(test_nul_byte_in_file)
{
        static const char text[] = "api_url = \"https://a\";\ntenant_id = \"acme\0evil\";\n";
        const char *path = write_conf("nul.conf", text, sizeof(text) - 1, 0644);
        char err[512], want[512];

        ck_assert_int_eq(load(path, err, sizeof(err)), -EINVAL);
        snprintf(want, sizeof(want), "%s:2: a NUL byte is not allowed in a config file", path);
        ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_refused_text)
{
        static const struct {
                const char *text, *want;
        } t[] = {
                {"\ntenant_id = \"acme\\x00evil\";\n",
                 "agent.conf:2: a NUL byte (\\x00) is not allowed in a string"},
                {"@include \"/etc/shadow\"\n",
                 "agent.conf:1: @include is not supported: put every setting in this file"},
                {"sensors = { file_prefixes = [ \"\" ]; };\n",
                 "agent.conf:1: sensors.file_prefixes: element 1 is an empty string (accepts a list of up "
                 "to "
                 "8 absolute path prefixes, each at most 63 bytes)"},
                {"sensors = {\n cgroup_deny = [ \"/a\", \"\" ]; };\n",
                 "agent.conf:2: sensors.cgroup_deny: element 2 is an empty string (accepts a list of up to "
                 "1024 cgroup v2 paths (relative to the cgroup2 mount))"},
                {"tenant_id = \"acme\\n2026-01-01 info: forged\";\n",
                 "agent.conf:1: tenant_id: contains a control character (CR, LF, ESC, ...) or malformed "
                 "UTF-8 "
                 "(accepts printable UTF-8 text on one line)"},
                {"workload_id = \"w\\r\";\n", "agent.conf:1: workload_id: contains a control character (CR, "
                                              "LF, ESC, ...) or malformed UTF-8 "
                                              "(accepts printable UTF-8 text on one line)"},
                {"tenant_id = \"\\x1b[2J\";\n", "agent.conf:1: tenant_id: contains a control character (CR, "
                                                "LF, ESC, ...) or malformed UTF-8 "
                                                "(accepts printable UTF-8 text on one line)"},
                {"tenant_id = \"caf\\xff\";\n", "agent.conf:1: tenant_id: contains a control character (CR, "
                                                "LF, ESC, ...) or malformed UTF-8 "
                                                "(accepts printable UTF-8 text on one line)"},
                {"api_url = \"https://user:hunter2@api.example/v1\";\n",
                 "agent.conf:1: api_url: refusing a URL with credentials in it (user:password@): "
                 "credentials "
                 "go in the enrolment token, not the URL"},
                {"api_url = \"http://user:hunter2@api.example\";\n",
                 "agent.conf:1: api_url: refusing a URL with credentials in it (user:password@): "
                 "credentials "
                 "go in the enrolment token, not the URL"},
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                _cleanup_(settings_done) Settings s = {};
                char err[512] = "";

                ck_assert_int_eq(config_file_parse_string("agent.conf", t[i].text, &s, err, sizeof(err)),
                                 -EINVAL);
                ck_assert_str_eq(err, t[i].want);
        }
}
END_TEST

/* What the lexer must not refuse: the same bytes in comments, an '@' past the host, UTF-8 text. */
START_TEST(test_accepted_text)
{
        _cleanup_(settings_done) Settings s = {};
        char err[512] = "";

        ck_assert_int_eq(config_file_parse_string("agent.conf",
                                                  "# \"\\x00\" @include\n// \\x00\n/* \\x00\n@include */\n"
                                                  "  tenant_id = \"caf\\xc3\\xa9 \\\"q\\\" \\\\x00\";\n"
                                                  "api_url = \"https://api.example/path@v1?u=a@b\";\n",
                                                  &s, err, sizeof(err)),
                         0);
        ck_assert_str_eq(settings_str(&s, SETTING_TENANT_ID), "caf\xc3\xa9 \"q\" \\x00");
        ck_assert_str_eq(settings_str(&s, SETTING_API_URL), "https://api.example/path@v1?u=a@b");
}
END_TEST

/* The same refusals from the environment and flags, and the password never echoed. */
START_TEST(test_env_and_flag_refusals)
{
        _cleanup_(settings_done) Settings env = {};
        const char *const envp[] = {"LINUXGUARD_API_URL=https://u:hunter2@api.example", NULL},
                          *const envp2[] = {"LINUXGUARD_POD_UID=abc\x1b]0;x\x07", NULL};
        char err[512] = "";

        ck_assert_int_eq(settings_from_env(envp, &env, err, sizeof(err)), -EINVAL);
        ck_assert_str_eq(err, "LINUXGUARD_API_URL: refusing a URL with credentials in it (user:password@): "
                              "credentials go in the enrolment token, not the URL");
        ck_assert_int_eq(settings_from_env(envp2, &env, err, sizeof(err)), -EINVAL);
        ck_assert_str_eq(err, "LINUXGUARD_POD_UID: contains a control character (CR, LF, ESC, ...) or "
                              "malformed UTF-8 (accepts printable UTF-8 text on one line)");

        {
                _cleanup_(start_args_done) StartArgs args = {};
                char a0[] = "start", a1[] = "--node-id=n\n1", *argv[] = {a0, a1, NULL};

                ck_assert_int_eq(start_args_parse(2, argv, &args, err, sizeof(err)), -EINVAL);
                ck_assert_str_eq(err, "--node-id: contains a control character (CR, LF, ESC, ...) or "
                                      "malformed UTF-8 (accepts printable UTF-8 text on one line)");
        }
}
END_TEST

/* The VmFlags of the mapping that holds `p`, from /proc/self/smaps. */
static bool mapping_has_flag(const void *p, const char *flag)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/smaps", "re");
        char line[512];
        bool inside = false;

        ck_assert_ptr_nonnull(f);
        while (fgets(line, sizeof(line), f)) {
                unsigned long lo, hi;

                if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
                        inside = (uintptr_t)p >= lo && (uintptr_t)p < hi;
                else if (inside && strncmp(line, "VmFlags:", 8) == 0) {
                        char want[8];
                        snprintf(want, sizeof(want), " %s", flag);
                        return strstr(line, want) != NULL;
                }
        }
        return false;
}

/* The token was strdup()ed into the heap, where a core dump (gcore) found it: now a secure buffer. */
START_TEST(test_secret_setting_in_secure_memory)
{
        const char *const envp[] = {"LINUXGUARD_ENROLL_TOKEN=tok-SECRET-1", "LINUXGUARD_TENANT_ID=t", NULL};
        _cleanup_(settings_done) Settings env = {}, flags = {}, filled = {};
        char err[512] = "";

        ck_assert_int_eq(settings_from_env(envp, &env, err, sizeof(err)), 0);
        ck_assert_str_eq(settings_str(&env, SETTING_ENROLL_TOKEN), "tok-SECRET-1");
        ck_assert(mapping_has_flag(settings_str(&env, SETTING_ENROLL_TOKEN), "dd"));
        ck_assert_uint_eq(secure_size(settings_str(&env, SETTING_ENROLL_TOKEN)), strlen("tok-SECRET-1"));
        /* An ordinary setting stays in the heap: the check above tells the two apart. */
        ck_assert(!mapping_has_flag(settings_str(&env, SETTING_TENANT_ID), "dd"));

        ck_assert_int_eq(
                setting_parse(SETTING_ENROLL_TOKEN, "tok-FLAG", SOURCE_FLAG, &flags.v[SETTING_ENROLL_TOKEN]),
                0);
        ck_assert(mapping_has_flag(flags.v[SETTING_ENROLL_TOKEN].str, "dd"));
        ck_assert_int_eq(settings_fill_defaults(&filled, &flags), 0);
        ck_assert(mapping_has_flag(filled.v[SETTING_ENROLL_TOKEN].str, "dd"));
}
END_TEST

static Suite *config_file_suite(void)
{
        Suite *s = suite_create("config-file");
        TCase *tc = tcase_create("core");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_not_a_regular_file);
        tcase_add_test(tc, test_size_limit);
        tcase_add_test(tc, test_owner_and_mode);
        tcase_add_test(tc, test_nul_byte_in_file);
        tcase_add_test(tc, test_refused_text);
        tcase_add_test(tc, test_accepted_text);
        tcase_add_test(tc, test_env_and_flag_refusals);
        tcase_add_test(tc, test_secret_setting_in_secure_memory);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(config_file_suite)
