/* Settings: boolean parsing, environment bindings, layer precedence, config-file refusals, CLI errors. */

#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <unistd.h>

#include "check-tap.h"
#include "config.h"
#include "core/agent-config.h"
#include "core/cli.h"
#include "core/config-file.h"
#include "net/enroll.h"
#include "sensors/sensors.h"
#include "ship/shipper.h"
#include "util/macro.h"

START_TEST(test_parse_boolean)
{
        static const struct {
                const char *s;
                int want;
        } t[] = {
                {"1", 1},           {"0", 0},      {"true", 1},    {"false", 0},      {"yes", 1},
                {"no", 0},          {"on", 1},     {"off", 0},     {"TRUE", 1},       {"Off", 0},
                {"maybe", -EINVAL}, {"", -EINVAL}, {"2", -EINVAL}, {" yes", -EINVAL}, {"y", -EINVAL},
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                ck_assert_msg(parse_boolean(t[i].s) == t[i].want, "parse_boolean(\"%s\")", t[i].s);
}
END_TEST

START_TEST(test_env_bindings)
{
        const char *envp[] = {
                "LINUXGUARD_ENROLL_TOKEN=tok",
                "LINUXGUARD_TENANT_ID=t1",
                "LINUXGUARD_NODE_NAME=n1",
                "LINUXGUARD_POD_UID=p1",
                "LINUXGUARD_LOADER_EMBEDDED=off",
                "LINUXGUARD_API_URL= https://a.example/ ",
                "LINUXGUARD_CA_FILE=/ca.pem",
                "UNRELATED=1",
                NULL,
        };
        _cleanup_(settings_done) Settings s = {};
        char err[256] = "";

        ck_assert_int_eq(settings_from_env(envp, &s, err, sizeof(err)), 0);
        ck_assert_str_eq(settings_str(&s, SETTING_ENROLL_TOKEN), "tok");
        ck_assert_str_eq(settings_str(&s, SETTING_TENANT_ID), "t1");
        ck_assert_str_eq(settings_str(&s, SETTING_NODE_ID), "n1");
        ck_assert_str_eq(settings_str(&s, SETTING_POD_UID), "p1");
        ck_assert(!settings_bool(&s, SETTING_LOADER_EMBEDDED));
        ck_assert_int_eq(s.v[SETTING_LOADER_EMBEDDED].source, SOURCE_ENV);
        ck_assert_str_eq(settings_str(&s, SETTING_API_URL), "https://a.example/");
        ck_assert_str_eq(settings_str(&s, SETTING_CA_FILE), "/ca.pem");
        ck_assert(!settings_is_set(&s, SETTING_WORKLOAD_ID));
}
END_TEST

START_TEST(test_env_blank_api_url_is_absent)
{
        const char *envp[] = {"LINUXGUARD_API_URL= \t ", "LINUXGUARD_TENANT_ID=", NULL};
        _cleanup_(settings_done) Settings s = {};
        char err[256] = "";

        ck_assert_int_eq(settings_from_env(envp, &s, err, sizeof(err)), 0);
        ck_assert(!settings_is_set(&s, SETTING_API_URL));
        ck_assert(!settings_is_set(&s, SETTING_TENANT_ID));
}
END_TEST

START_TEST(test_env_bad_boolean_names_the_variable)
{
        const char *envp[] = {"LINUXGUARD_LOADER_EMBEDDED=maybe", NULL};
        _cleanup_(settings_done) Settings s = {};
        char err[256] = "";

        ck_assert_int_eq(settings_from_env(envp, &s, err, sizeof(err)), -EINVAL);
        ck_assert_str_eq(err,
                         "LINUXGUARD_LOADER_EMBEDDED: invalid value \"maybe\" (accepts 1/0, true/false, "
                         "yes/no, on/off)");
}
END_TEST

START_TEST(test_env_bad_url)
{
        const char *envp[] = {"LINUXGUARD_API_URL=http://plain.example", NULL};
        _cleanup_(settings_done) Settings s = {};
        char err[256] = "";

        ck_assert_int_eq(settings_from_env(envp, &s, err, sizeof(err)), -EINVAL);
        ck_assert_str_eq(
                err, "LINUXGUARD_API_URL: invalid value \"http://plain.example\" (accepts an https:// URL)");
}
END_TEST

static void set(Settings *s, SettingId id, const char *v, SettingSource src)
{
        ck_assert_int_eq(setting_parse(id, v, src, &s->v[id]), 0);
}

/* Each row sets a value in some layers; the effective value and its source must be the top one. */
START_TEST(test_precedence)
{
        static const struct {
                const char *flag, *env, *file, *want;
                SettingSource src;
        } t[] = {
                {"https://flag", "https://env", "https://file", "https://flag", SOURCE_FLAG},
                {NULL, "https://env", "https://file", "https://env", SOURCE_ENV},
                {NULL, NULL, "https://file", "https://file", SOURCE_FILE},
                {NULL, NULL, NULL, DEFAULT_API_URL, SOURCE_DEFAULT},
                {"https://flag", NULL, "https://file", "https://flag", SOURCE_FLAG},
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                _cleanup_(settings_done) Settings flags = {}, env = {}, file = {};
                _cleanup_(agent_config_done) AgentConfig c = {};
                char err[256];
                ResolveInputs in = {&flags, &env, &file, .pid = 100, .ppid = 1, .machine_id = "m"};

                if (t[i].flag)
                        set(&flags, SETTING_API_URL, t[i].flag, SOURCE_FLAG);
                if (t[i].env)
                        set(&env, SETTING_API_URL, t[i].env, SOURCE_ENV);
                if (t[i].file)
                        set(&file, SETTING_API_URL, t[i].file, SOURCE_FILE);
                ck_assert_int_eq(agent_config_resolve(&in, &c, err, sizeof(err)), 0);
                ck_assert_str_eq(settings_str(&c.settings, SETTING_API_URL), t[i].want);
                ck_assert_int_eq(c.settings.v[SETTING_API_URL].source, t[i].src);
        }
}
END_TEST

/* agent_config_load() builds the same layers for every subcommand: flag > environment > file > default. */
START_TEST(test_load_layers)
{
        char path[] = "/tmp/test-settings-XXXXXX", arg0[] = "start", arg1[64], arg2[] = "--log-level=debug";
        const char *const envp[] = {"LINUXGUARD_LOG_LEVEL=notice",
                                    "LINUXGUARD_OUTPUT=api",
                                    "LINUXGUARD_ENROLL_TOKEN=envtok",
                                    "LINUXGUARD_TENANT_ID=t-env",
                                    "LINUXGUARD_NODE_NAME=n",
                                    "LINUXGUARD_POD_UID=p",
                                    NULL};
        static const char conf[] =
                "log_level = \"warning\";\noutput = \"file:/x\";\ntenant_id = \"t-file\";\n"
                "heartbeat_interval = 7;\n";
        char *argv[] = {arg0, arg1, arg2, NULL};
        char err[512] = "";
        int fd;

        fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, conf, strlen(conf)), (ssize_t)strlen(conf));
        close(fd);
        snprintf(arg1, sizeof(arg1), "--config=%s", path);

        for (int host = 0; host <= 1; host++) {
                _cleanup_(start_args_done) StartArgs a = {};
                _cleanup_(agent_config_done) AgentConfig c = {};
                const Settings *s = &c.settings;

                ck_assert_int_eq(start_args_parse(3, argv, &a, err, sizeof(err)), 0);
                ck_assert_int_eq(
                        agent_config_load(&(const AgentConfigRequest){.mode = host ? MODE_CHOICE_HOST
                                                                                   : MODE_CHOICE_TRIGGERS,
                                                                      .flags = &a.flags,
                                                                      .envp = envp,
                                                                      .ignore_env_token = host,
                                                                      .pid = 1,
                                                                      .ppid = 0,
                                                                      .machine_id = "m"},
                                          &c, err, sizeof(err)),
                        0);
                ck_assert(c.config_file_found);
                ck_assert_str_eq(settings_str(s, SETTING_LOG_LEVEL), "debug"); /* flag */
                ck_assert_int_eq(s->v[SETTING_LOG_LEVEL].source, SOURCE_FLAG);
                ck_assert_str_eq(settings_str(s, SETTING_OUTPUT), "api"); /* environment over file */
                ck_assert_str_eq(settings_str(s, SETTING_TENANT_ID), "t-env");
                ck_assert_uint_eq(settings_uint(s, SETTING_HEARTBEAT_INTERVAL), 7); /* file */
                ck_assert_int_eq(s->v[SETTING_HEARTBEAT_INTERVAL].source, SOURCE_FILE);
                ck_assert_uint_eq(settings_uint(s, SETTING_ENROLL_TIMEOUT), SETTING_DEFAULT_ENROLL_TIMEOUT);
                ck_assert_int_eq(s->v[SETTING_ENROLL_TIMEOUT].source, SOURCE_DEFAULT);
                /* PID 1 and a token: ephemeral when the triggers decide, the host when it is chosen. */
                ck_assert_int_eq(c.profile.mode, host ? MODE_HOST : MODE_EPHEMERAL);
                ck_assert_int_eq(settings_is_set(s, SETTING_ENROLL_TOKEN), !host);
        }

        /* A token from the init shim's pipe replaces the environment's; a flag still wins. */
        {
                _cleanup_(agent_config_done) AgentConfig c = {};

                ck_assert_int_eq(agent_config_load(&(const AgentConfigRequest){.envp = envp,
                                                                               .enroll_token = "pipetok",
                                                                               .config_file = path,
                                                                               .pid = 100},
                                                   &c, err, sizeof(err)),
                                 0);
                ck_assert_str_eq(settings_str(&c.settings, SETTING_ENROLL_TOKEN), "pipetok");
                ck_assert_int_eq(c.settings.v[SETTING_ENROLL_TOKEN].source, SOURCE_ENV);
        }
        ck_assert_int_eq(unlink(path), 0);

        /* A named file must exist; a bad environment value names its variable. */
        {
                _cleanup_(agent_config_done) AgentConfig c = {};
                const char *const bad[] = {"LINUXGUARD_LOG_FORMAT=yaml", NULL};

                ck_assert_int_lt(agent_config_load(&(const AgentConfigRequest){.mode = MODE_CHOICE_HOST,
                                                                               .config_file = path},
                                                   &c, err, sizeof(err)),
                                 0);
                ck_assert_ptr_nonnull(strstr(err, path));
                agent_config_done(&c);
                ck_assert_int_eq(
                        agent_config_load(&(const AgentConfigRequest){.envp = bad}, &c, err, sizeof(err)),
                        -EINVAL);
                ck_assert_str_eq(err,
                                 "LINUXGUARD_LOG_FORMAT: invalid value \"yaml\" (accepts text or json)");
        }
}
END_TEST

/* `enroll` and the ephemeral agent enrol with the same parameters, taken from the configuration. */
START_TEST(test_enroll_params_from_config)
{
        _cleanup_(agent_config_done) AgentConfig c = {};
        const char *const envp[] = {"LINUXGUARD_TENANT_ID=t1", "LINUXGUARD_CA_FILE=/ca.pem",
                                    "LINUXGUARD_API_URL=https://api.example", NULL};
        char err[256] = "", path[] = "/tmp/test-settings-XXXXXX";
        EnrollParams p;
        int fd;

        fd = mkstemp(path); /* an empty config file */
        ck_assert_int_ge(fd, 0);
        close(fd);

        ck_assert_int_eq(agent_config_load(&(const AgentConfigRequest){.mode = MODE_CHOICE_HOST,
                                                                       .envp = envp,
                                                                       .config_file = path,
                                                                       .pid = 1,
                                                                       .machine_id = "m"},
                                           &c, err, sizeof(err)),
                         0);
        ck_assert_int_eq(unlink(path), 0);
        p = enroll_params_from_config(&c, "tok", "h1");
        ck_assert_str_eq(p.api_url, "https://api.example");
        ck_assert_str_eq(p.ca_file, "/ca.pem");
        ck_assert_str_eq(p.tenant_id, "t1");
        ck_assert_str_eq(p.token, "tok");
        ck_assert_str_eq(p.hostname, "h1");
        ck_assert_str_eq(p.workload_id, c.workload_id);
        ck_assert_str_eq(p.mode, "host");
        ck_assert_str_eq(p.agent_version, PACKAGE_VERSION);
        ck_assert_uint_eq(p.give_up_usec, SETTING_DEFAULT_ENROLL_TIMEOUT * USEC_PER_SEC);
        ck_assert_ptr_null(enroll_params_check(&p));
}
END_TEST

START_TEST(test_resolve_ephemeral_without_identity_refuses)
{
        _cleanup_(settings_done) Settings flags = {}, env = {}, file = {};
        _cleanup_(agent_config_done) AgentConfig c = {};
        char err[512] = "";
        ResolveInputs in = {&flags, &env, &file, .pid = 100, .ppid = 1, .machine_id = "host-machine"};

        set(&env, SETTING_ENROLL_TOKEN, "tok", SOURCE_ENV);
        set(&env, SETTING_NODE_ID, "n1", SOURCE_ENV); /* one half only */
        ck_assert_int_eq(agent_config_resolve(&in, &c, err, sizeof(err)), -EINVAL);
        ck_assert_str_eq(err, IDENTITY_MISSING_MESSAGE);
}
END_TEST

START_TEST(test_resolve_loader_default_from_profile)
{
        _cleanup_(settings_done) Settings flags = {}, env = {}, file = {};
        _cleanup_(agent_config_done) AgentConfig c = {};
        char err[256];
        ResolveInputs in = {&flags, &env, &file, .pid = 100, .ppid = 1};

        set(&flags, SETTING_EPHEMERAL, "true", SOURCE_FLAG);
        set(&flags, SETTING_WORKLOAD_ID, "w", SOURCE_FLAG);
        ck_assert_int_eq(agent_config_resolve(&in, &c, err, sizeof(err)), 0);
        ck_assert_int_eq(c.profile.mode, MODE_EPHEMERAL);
        ck_assert_int_eq(settings_bool(&c.settings, SETTING_LOADER_EMBEDDED), BUILT_WITH_LOADER_EMBEDDED);
        ck_assert_int_eq(c.settings.v[SETTING_LOADER_EMBEDDED].source, SOURCE_DEFAULT);
}
END_TEST

/* Bad config files are refused with "FILE:LINE: what is wrong", exactly. */
START_TEST(test_config_file_errors)
{
        static const struct {
                const char *text, *want;
        } t[] = {
                {"api_url = \"https://x\";\nbogus = 1;\n", "agent.conf:2: unknown key \"bogus\""},
                {"\n\nheartbeat_interval = 0;\n",
                 "agent.conf:3: heartbeat_interval: 0 is out of range (seconds, 1 to 86400)"},
                {"heartbeat_interval = 90000;\n",
                 "agent.conf:1: heartbeat_interval: 90000 is out of range (seconds, 1 to 86400)"},
                {"heartbeat_interval = \"10\";\n", "agent.conf:1: heartbeat_interval: expected an integer "
                                                   "(seconds, 1 to 86400), got a string"},
                {"loader_embedded = \"yes\";\n",
                 "agent.conf:1: loader_embedded: expected a boolean (true or false), got a string"},
                {"output = 3;\n", "agent.conf:1: output: expected a string (stdout, file:/ABSOLUTE/PATH or "
                                  "api), got an integer"},
                {"output = \"file:relative\";\n", "agent.conf:1: output: invalid value \"file:relative\" "
                                                  "(accepts stdout, file:/ABSOLUTE/PATH or api)"},
                {"log_level = \"loud\";\n", "agent.conf:1: log_level: invalid value \"loud\" (accepts "
                                            "debug, info, notice, warning or error)"},
                {"api_url = \"https://x\"\n tenant_id = ;\n", "agent.conf:2: syntax error"},
                {"sensors = { process = true; bogus = 1; };\n",
                 "agent.conf:1: unknown key \"sensors.bogus\""},
                {"monitor = { x = 1; };\n", "agent.conf:1: unknown key \"monitor\""},
                {"sensors = { pid_deny = [ \"x\" ]; };\n",
                 "agent.conf:1: sensors.pid_deny: element 1 is a string (accepts a list of up to 1024 "
                 "process ids)"},
                {"sensors = { pid_deny = [ 0 ]; };\n", "agent.conf:1: sensors.pid_deny: invalid value \"0\" "
                                                       "(accepts a list of up to 1024 process ids)"},
                {"sensors = { file_prefixes = \"/etc/\"; };\n",
                 "agent.conf:1: sensors.file_prefixes: expected a list like [ ... ] (a list of up to 8 "
                 "absolute path "
                 "prefixes, each at most 63 bytes), got a string"},
                {"sensors = { file_prefixes = [ \"/a,b/\" ]; };\n",
                 "agent.conf:1: sensors.file_prefixes: element 1 contains a comma, which is not supported"},
                {"sensors = { file_prefixes = [ \"/1/\", \"/2/\", \"/3/\", \"/4/\", \"/5/\", \"/6/\", "
                 "\"/7/\", \"/8/\", \"/9/\" ]; };\n",
                 "agent.conf:1: sensors.file_prefixes: invalid value "
                 "\"/1/,/2/,/3/,/4/,/5/,/6/,/7/,/8/,/9/\" (accepts a "
                 "list of up to 8 absolute path prefixes, each at most 63 bytes)"},
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

START_TEST(test_config_file_values)
{
        _cleanup_(settings_done) Settings s = {};
        char err[512] = "";

        ck_assert_int_eq(config_file_parse_string("agent.conf",
                                                  "# comment\napi_url = \"https://api.example\";\n"
                                                  "tls_cache = true;\nheartbeat_interval = 5;\n"
                                                  "output = \"file:/var/log/linuxguard/events.json\";\n",
                                                  &s, err, sizeof(err)),
                         0);
        ck_assert_str_eq(settings_str(&s, SETTING_API_URL), "https://api.example");
        ck_assert_uint_eq(s.v[SETTING_API_URL].line, 2);
        ck_assert(settings_bool(&s, SETTING_TLS_CACHE));
        ck_assert_uint_eq(settings_uint(&s, SETTING_HEARTBEAT_INTERVAL), 5);
        ck_assert_int_eq(s.v[SETTING_OUTPUT].source, SOURCE_FILE);
}
END_TEST

START_TEST(test_config_file_lists)
{
        _cleanup_(settings_done) Settings s = {};
        char err[512] = "", **l = NULL;
        size_t n = 0;

        ck_assert_int_eq(config_file_parse_string("agent.conf",
                                                  "sensors = { file_prefixes = [ \"/srv/\", \"/opt/x/\" ];\n"
                                                  "pid_deny = ( 42, 4242 ); cgroup_allow = [ ]; };\n",
                                                  &s, err, sizeof(err)),
                         0);
        ck_assert_str_eq(settings_str(&s, SETTING_FILE_PREFIXES), "/srv/,/opt/x/");
        ck_assert_str_eq(settings_str(&s, SETTING_PID_DENY), "42,4242");
        ck_assert_str_eq(settings_str(&s, SETTING_CGROUP_ALLOW), "");
        ck_assert_int_eq(setting_list_split(settings_str(&s, SETTING_FILE_PREFIXES), &l, &n), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(l[1], "/opt/x/");
        ck_assert_ptr_null(l[2]);
        strv_free(l);
        ck_assert_int_eq(setting_list_split("", &l, &n), 0);
        ck_assert_uint_eq(n, 0);
        strv_free(l);
}
END_TEST

/* Empty elements each take a slot: "/,,,," (four elements: a trailing comma ends the list) once
 * overflowed an array sized for one-byte elements. */
START_TEST(test_list_split_empty_elements)
{
        char **l = NULL;
        size_t n = 0;

        ck_assert_int_eq(setting_list_split("/,,,,", &l, &n), 0);
        ck_assert_uint_eq(n, 4);
        ck_assert_str_eq(l[0], "/");
        for (size_t i = 1; i < n; i++)
                ck_assert_str_eq(l[i], "");
        ck_assert_ptr_null(l[n]);
        strv_free(l);

        ck_assert_int_eq(setting_list_split(",", &l, &n), 0);
        ck_assert_uint_eq(n, 1); /* a trailing comma ends the list */
        ck_assert_ptr_null(l[n]);
        strv_free(l);
}
END_TEST

START_TEST(test_cli_errors)
{
        static const struct {
                const char *argv[4];
                const char *want;
        } t[] = {
                {{"start", "--bogus"},
                 "unknown option '--bogus' (see 'linuxguard start --help' for the accepted flags)"},
                {{"start", "--log-format=yaml"},
                 "--log-format: invalid value \"yaml\" (accepts text or json)"},
                {{"start", "--output", "tcp:x"},
                 "--output: invalid value \"tcp:x\" (accepts stdout, file:/ABSOLUTE/PATH or api)"},
                {{"start", "--loader-embedded=perhaps"},
                 "--loader-embedded: invalid value \"perhaps\" (accepts 1/0, true/false, yes/no, on/off)"},
                {{"start", "--heartbeat-interval", "-1"},
                 "--heartbeat-interval: invalid value \"-1\" (accepts seconds, 1 to 86400)"},
                {{"start", "--api-url"}, "--api-url: a value is required (see 'linuxguard start --help')"},
                {{"start", "stray"}, "unexpected argument 'stray' (start takes flags only)"},
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                _cleanup_(start_args_done) StartArgs a = {};
                char *argv[4], err[256] = "";
                int argc = 0;

                for (; argc < 4 && t[i].argv[argc]; argc++)
                        argv[argc] = strdupa(t[i].argv[argc]);
                ck_assert_int_eq(start_args_parse(argc, argv, &a, err, sizeof(err)), -EINVAL);
                ck_assert_str_eq(err, t[i].want);
        }
}
END_TEST

enum { OWN_HELP, OWN_NAME, OWN_REFUSED };

static int own_option(int id, const char *arg, void *userdata, char *error, size_t error_size)
{
        const char **name = userdata;

        if (id == OWN_REFUSED)
                return -ENOENT;
        if (id == OWN_NAME)
                *name = arg;
        return 0;
}

/* The parser every subcommand shares: its own options, a subset of the setting flags, positionals. */
START_TEST(test_cli_parse_command)
{
        static const CliOption options[] = {
                {"help", 'h', no_argument, OWN_HELP},
                {"name", 0, required_argument, OWN_NAME},
                {"refused", 0, no_argument, OWN_REFUSED},
        };
        static const SettingId settings[] = {SETTING_TENANT_ID, SETTING_ENROLL_TIMEOUT};
        CliCommand cmd = {
                .options = options,
                .n_options = ELEMENTSOF(options),
                .settings = settings,
                .n_settings = ELEMENTSOF(settings),
                .missing_hint = "",
                .unknown_hint = " (see --help)",
                .unexpected_hint = " (flags only)",
                .on_option = own_option,
        };
        static const struct {
                const char *argv[3];
                const char *want;
        } bad[] = {
                {{"x", "--api-url=https://a"}, "unknown option '--api-url=https://a' (see --help)"},
                {{"x", "--refused"}, "unknown option '--refused' (see --help)"},
                {{"x", "-q"}, "unknown option '-q' (see --help)"},
                {{"x", "--name"}, "--name: a value is required"},
                {{"x", "--tenant-id="}, "--tenant-id: invalid value \"\" (accepts a tenant identifier)"},
                {{"x", "--enroll-timeout=0"},
                 "--enroll-timeout: invalid value \"0\" (accepts seconds, 1 to 86400)"},
                {{"x", "stray"}, "unexpected argument 'stray' (flags only)"},
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(settings_done) Settings flags = {};
                const char *name = NULL;
                char *argv[3] = {}, err[256] = "";
                int argc = 0;

                for (; argc < 3 && bad[i].argv[argc]; argc++)
                        argv[argc] = strdupa(bad[i].argv[argc]);
                ck_assert_int_eq(cli_parse(&cmd, argc, argv, &flags, &name, NULL, err, sizeof(err)),
                                 -EINVAL);
                ck_assert_str_eq(err, bad[i].want);
        }

        {
                _cleanup_(settings_done) Settings flags = {};
                char a0[] = "x", a1[] = "--tenant-id=t1", a2[] = "--name=n", a3[] = "verb";
                char *argv[] = {a0, a1, a2, a3, NULL}, err[256] = "";
                const char *name = NULL;
                int first = 0;

                cmd.positional = true;
                ck_assert_int_eq(cli_parse(&cmd, 4, argv, &flags, &name, &first, err, sizeof(err)), 0);
                ck_assert_str_eq(settings_str(&flags, SETTING_TENANT_ID), "t1");
                ck_assert_int_eq(flags.v[SETTING_TENANT_ID].source, SOURCE_FLAG);
                ck_assert_str_eq(name, "n");
                ck_assert_int_eq(first, 3);
        }
}
END_TEST

START_TEST(test_cli_token_is_copied_and_wiped_from_argv)
{
        _cleanup_(start_args_done) StartArgs a = {};
        char arg0[] = "start", arg1[] = "--enroll-token=S3CR3T", arg2[] = "--loader-embedded",
             arg3[] = "--dry-run";
        char *argv[] = {arg0, arg1, arg2, arg3, NULL};
        char err[256];

        ck_assert_int_eq(start_args_parse(4, argv, &a, err, sizeof(err)), 0);
        ck_assert_str_eq(settings_str(&a.flags, SETTING_ENROLL_TOKEN), "S3CR3T");
        ck_assert_ptr_null(memmem(arg1, sizeof(arg1), "S3CR3T", 6));
        ck_assert(settings_bool(&a.flags, SETTING_LOADER_EMBEDDED));
        ck_assert(a.dry_run);
}
END_TEST

/* Every setting the help text gives a concrete default actually gets one from the defaults layer. */
START_TEST(test_defaults_cover_the_table)
{
        static const SettingId without_default[] = {
                SETTING_ENROLL_TOKEN, SETTING_ENROLL_TOKEN_FILE, SETTING_ENROLL_TOKEN_TAG,
                SETTING_TENANT_ID,    SETTING_WORKLOAD_ID,       SETTING_NODE_ID,
                SETTING_POD_UID,      SETTING_CA_FILE,           SETTING_METRICS_LISTEN,
        };
        _cleanup_(settings_done) Settings d = {};

        ck_assert_int_eq(settings_defaults(false, &d), 0);
        for (size_t i = 0; i < _SETTING_MAX; i++) {
                bool expect = true;
                for (size_t j = 0; j < ELEMENTSOF(without_default); j++)
                        if (without_default[j] == (SettingId)i)
                                expect = false;
                ck_assert_msg(settings_is_set(&d, i) == expect, "default of %s", setting_info(i)->name);
        }
}
END_TEST

START_TEST(test_uint_accepts_names_the_range)
{
        for (size_t i = 0; i < _SETTING_MAX; i++) {
                const SettingInfo *info = setting_info(i);
                char range[64];

                if (info->type != SETTING_UINT)
                        continue;
                snprintf(range, sizeof(range), "%llu to %llu", (unsigned long long)info->min,
                         (unsigned long long)info->max);
                ck_assert_msg(strstr(info->accepts, range), "%s accepts \"%s\", range %s", info->name,
                              info->accepts, range);
        }
}
END_TEST

START_TEST(test_default_describe)
{
        static const struct {
                SettingId id;
                const char *want;
        } t[] = {
                {SETTING_SENSOR_FILE, "on"},
                {SETTING_TLS_CACHE, "off"},
                {SETTING_ENROLL_TIMEOUT, "300"},
                {SETTING_PID_DENY, "empty"},
                {SETTING_PID_ALLOW, "empty (every process)"},
                {SETTING_TENANT_ID, "none"},
                {SETTING_FILE_PREFIXES,
                 "[ \"/etc/\", \"/root/.ssh/\", \"/var/run/secrets/\", \"/run/secrets/\" ]"},
        };
        char buf[256];

        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                ck_assert_str_eq(setting_default_describe(t[i].id, buf, sizeof(buf)), t[i].want);
}
END_TEST

/* The shipper and the sensors initialise their configs without a settings layer: with the table's values. */
START_TEST(test_component_defaults_are_the_tables)
{
        _cleanup_(settings_done) Settings d = {};
        _cleanup_(strv_freep) char **prefixes = NULL;
        ShipperConfig sc;
        size_t n = 0;

        ck_assert_int_eq(settings_defaults(false, &d), 0);
        shipper_config_init(&sc);
        ck_assert_uint_eq(sc.batch_max_count, settings_uint(&d, SETTING_BATCH_MAX_EVENTS));
        ck_assert_uint_eq(sc.batch_max_bytes, settings_uint(&d, SETTING_BATCH_MAX_BYTES));
        ck_assert_uint_eq(sc.batch_max_age, settings_uint(&d, SETTING_BATCH_MAX_AGE_MS) * USEC_PER_MSEC);
        ck_assert_uint_eq(sc.queue_max_bytes, settings_uint(&d, SETTING_QUEUE_MAX_BYTES));
        ck_assert_uint_eq(sc.spool_max_bytes, settings_uint(&d, SETTING_SPOOL_MAX_BYTES));
        ck_assert_uint_eq(SENSORS_DEFAULT_RING_SIZE, settings_uint(&d, SETTING_RING_BUFFER_SIZE));

        ck_assert_int_eq(setting_list_split(settings_str(&d, SETTING_FILE_PREFIXES), &prefixes, &n), 0);
        ck_assert_uint_eq(n, SENSORS_N_DEFAULT_FILE_PREFIXES);
        for (size_t i = 0; i < n; i++)
                ck_assert_str_eq(prefixes[i], SENSORS_DEFAULT_FILE_PREFIXES[i]);
}
END_TEST

START_TEST(test_parse_listen_address)
{
        static const struct {
                const char *s;
                int family;
                unsigned port;
        } good[] = {
                {"127.0.0.1:9464", AF_INET, 9464},
                {"0.0.0.0:0", AF_INET, 0},
                {"[::1]:65535", AF_INET6, 65535},
                {"[::]:80", AF_INET6, 80},
        };
        static const char *const bad[] = {
                "127.0.0.1",     "127.0.0.1:", ":9464",   "127.0.0.1:65536", "localhost:80", "::1:80",
                "[127.0.0.1]:1", "[::1]",      "[::1:80", "1.2.3.4:8x",      "1.2.3.4:-1",   "",
        };
        struct sockaddr_storage sa;
        socklen_t len;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                ck_assert_msg(parse_listen_address(good[i].s, &sa, &len) == 0, "%s", good[i].s);
                ck_assert_int_eq(sa.ss_family, good[i].family);
                ck_assert_uint_eq(ntohs(good[i].family == AF_INET ? ((struct sockaddr_in *)&sa)->sin_port
                                                                  : ((struct sockaddr_in6 *)&sa)->sin6_port),
                                  good[i].port);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ck_assert_msg(parse_listen_address(bad[i], &sa, &len) == -EINVAL, "%s", bad[i]);
}
END_TEST

static Suite *settings_suite(void)
{
        Suite *s = suite_create("settings");
        TCase *tc = tcase_create("layers");

        tcase_add_test(tc, test_parse_boolean);
        tcase_add_test(tc, test_parse_listen_address);
        tcase_add_test(tc, test_defaults_cover_the_table);
        tcase_add_test(tc, test_uint_accepts_names_the_range);
        tcase_add_test(tc, test_default_describe);
        tcase_add_test(tc, test_component_defaults_are_the_tables);
        tcase_add_test(tc, test_env_bindings);
        tcase_add_test(tc, test_env_blank_api_url_is_absent);
        tcase_add_test(tc, test_env_bad_boolean_names_the_variable);
        tcase_add_test(tc, test_env_bad_url);
        tcase_add_test(tc, test_precedence);
        tcase_add_test(tc, test_resolve_ephemeral_without_identity_refuses);
        tcase_add_test(tc, test_resolve_loader_default_from_profile);
        tcase_add_test(tc, test_config_file_errors);
        tcase_add_test(tc, test_config_file_values);
        tcase_add_test(tc, test_config_file_lists);
        tcase_add_test(tc, test_list_split_empty_elements);
        tcase_add_test(tc, test_cli_errors);
        tcase_add_test(tc, test_cli_parse_command);
        tcase_add_test(tc, test_load_layers);
        tcase_add_test(tc, test_enroll_params_from_config);
        tcase_add_test(tc, test_cli_token_is_copied_and_wiped_from_argv);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(settings_suite)
