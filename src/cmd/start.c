/* `linuxguard start`: resolve everything, then run the agent. Reads as the script of its steps. */

#include "cmd/commands.h"

#include <errno.h>
#include <stdio.h>
#include <systemd/sd-id128.h>

#include "config.h"
#include "core/agent-config.h"
#include "core/cli.h"
#include "core/exit-status.h"
#include "daemon/manager.h"
#include "daemon/notify.h"
#include "daemon/pid1-shim.h"
#include "daemon/pidfile.h"
#include "daemon/runtime-dir.h"
#include "identity/host-store.h"
#include "identity/machine-id.h"
#include "identity/token-source.h"
#include "sensors/caps.h"
#include "util/environ-util.h"
#include "util/log.h"
#include "util/secure-mem.h"

extern char **environ;

static void start_help(void)
{
        printf("Usage: linuxguard start [OPTIONS]\n\n"
               "Run the agent. Settings resolve as flag > environment > config file > default.\n"
               "Ephemeral (container) mode is selected by --ephemeral, a non-empty enrolment token, "
               "running\n"
               "as PID 1, or the internal LINUXGUARD_PID1_CHILD sentinel; otherwise host mode.\n\n"
               "Options:\n");
        cli_print_start_options(stdout);
}

static void usage_error(const char *msg)
{
        fprintf(stderr, "linuxguard start: %s\n", msg);
}

/* The agent the PID 1 shim started gets the token through an inherited pipe, never argv/environ. */
static int receive_shim_token(char **ret)
{
        int r;

        if (!getenv(PID1_SENTINEL_ENV))
                return 0;
        r = pid1_token_receive(ret);
        if (r < 0)
                return log_error_errno(r, "Failed to receive the enrolment token from the init shim: %m");
        return 0;
}

static int load_config(StartArgs *args, AgentConfig *ret, char *error, size_t error_size)
{
        _cleanup_secret_ char *shim_token = NULL;
        _cleanup_free_ char *mid = NULL;
        int r;

        r = receive_shim_token(&shim_token);
        if (r >= 0) {
                mid = machine_app_id();
                r = agent_config_load(
                        &(const AgentConfigRequest){
                                .mode = MODE_CHOICE_TRIGGERS,
                                .flags = &args->flags,
                                .envp = (const char *const *)environ,
                                .enroll_token = shim_token,
                                .pid1_sentinel = getenv(PID1_SENTINEL_ENV),
                                .pid = getpid(),
                                .ppid = getppid(),
                                .machine_id = mid,
                        },
                        ret, error, error_size);
        }
        /* Read once, then gone: neither our environ nor /proc/PID/environ keeps the token. */
        environ_scrub("LINUXGUARD_ENROLL_TOKEN");
        return r;
}

/* --enroll-token-file: in ephemeral mode, when no token came from the flag or the environment. It does not
 * select ephemeral mode by itself: the spec's triggers stay exactly as documented. */
static int load_token_file(AgentConfig *c, char *error, size_t error_size)
{
        const char *path = settings_str(&c->settings, SETTING_ENROLL_TOKEN_FILE);
        _cleanup_secret_ char *token = NULL;
        int r;

        if (!path || settings_str(&c->settings, SETTING_ENROLL_TOKEN))
                return 0;
        if (c->profile.mode != MODE_EPHEMERAL) {
                log_notice(
                        "Ignoring --enroll-token-file in host mode: enrol a host with 'linuxguard enroll'.");
                return 0;
        }
        r = token_source_read_file(path, &token, error, error_size);
        if (r < 0)
                return r;
        r = setting_parse(SETTING_ENROLL_TOKEN, token, SOURCE_DEFAULT, &c->settings.v[SETTING_ENROLL_TOKEN]);
        if (r < 0)
                return r;
        c->token_from_file = true;
        return 0;
}

/* Loading eBPF in-process needs these; a missing one is a deployment error, named with its fix (exit 6). */
static int check_capabilities(const AgentConfig *c)
{
        static const CapNeed needs[] = {CAP_NEED_BPF, CAP_NEED_PERFMON, CAP_NEED_DAC_READ_SEARCH};
        const Settings *s = &c->settings;
        _cleanup_free_ char *msg = NULL;
        int r;

        /* The pinned set needs no load privileges; without one the agent falls back to loading itself and,
         * lacking them, runs degraded with the reason (the host default), instead of refusing to start. */
        if (!settings_bool(s, SETTING_LOADER_EMBEDDED))
                return 0;
        if (!settings_bool(s, SETTING_SENSOR_PROCESS) && !settings_bool(s, SETTING_SENSOR_FILE) &&
            !settings_bool(s, SETTING_SENSOR_NETWORK) && !settings_bool(s, SETTING_SENSOR_KERNEL))
                return 0;
        r = caps_check(needs, ELEMENTSOF(needs), &msg);
        if (r == -EPERM)
                log_error("%s", msg);
        else if (r < 0)
                log_warning_errno(r, "Failed to read this process's capabilities, not checking them: %m");
        return r == -EPERM ? r : 0;
}

/* Events go to the API by default once there is an identity to send them with: a stored host enrolment,
 * or in ephemeral mode a token (or a cache tag) to enrol with. Otherwise they stay local. */
static int default_output(AgentConfig *c)
{
        const Settings *s = &c->settings;
        bool enrolled;

        if (c->settings.v[SETTING_OUTPUT].source != SOURCE_DEFAULT)
                return 0;
        if (c->profile.mode == MODE_EPHEMERAL)
                enrolled =
                        settings_str(s, SETTING_ENROLL_TOKEN) ||
                        (settings_bool(s, SETTING_TLS_CACHE) && settings_str(s, SETTING_ENROLL_TOKEN_TAG));
        else
                enrolled = access(HOST_STATE_DIR "/" HOST_STORE_ENROLMENT_FILE, F_OK) >= 0;
        if (!enrolled)
                return 0;
        setting_value_reset(SETTING_OUTPUT, &c->settings.v[SETTING_OUTPUT]);
        return setting_parse(SETTING_OUTPUT, "api", SOURCE_DEFAULT, &c->settings.v[SETTING_OUTPUT]);
}

static void warn_about_inputs(const AgentConfig *c)
{
        if (c->settings.v[SETTING_ENROLL_TOKEN].source == SOURCE_FLAG)
                log_warning("The enrolment token was given with --enroll-token and was visible in "
                            "/proc/%d/cmdline until now; pass it in LINUXGUARD_ENROLL_TOKEN instead.",
                            (int)getpid());
        if (c->profile.sentinel_misuse)
                log_warning("%s is set but the parent process is not PID 1. It is internal to linuxguard's "
                            "init shim; operators must not set it. Treating it as an ephemeral trigger.",
                            PID1_SENTINEL_ENV);
}

static void setup_logging(const AgentConfig *c)
{
        log_set_max_level(log_level_from_string(settings_str(&c->settings, SETTING_LOG_LEVEL)));
        log_set_format(log_format_from_string(settings_str(&c->settings, SETTING_LOG_FORMAT)));
        log_set_target(c->profile.log_to_journal ? LOG_TARGET_AUTO : LOG_TARGET_STDERR);
        (void)log_register_secret(settings_str(&c->settings, SETTING_ENROLL_TOKEN));
        (void)log_add_journal_field(c->profile.mode == MODE_EPHEMERAL ? "LINUXGUARD_MODE=ephemeral"
                                                                      : "LINUXGUARD_MODE=host");
}

/* Returns the exit status: the event loop's when it ends (SIGINT/SIGTERM), else why it could not run. */
static int run_agent(AgentConfig *config)
{
        _cleanup_(pidfile_releasep) PidFile *pidfile = NULL;
        _cleanup_(manager_freep) Manager *m = NULL;
        char reason[512] = "";
        int r;

        /* The PID file, the control socket and the TLS cache live there: refuse a directory someone
         * else controls. Missing and impossible to create (a read-only root) is fine: the socket falls
         * back to an abstract one, and a PID file or cache that needs it says so itself. */
        r = runtime_dir_prepare(RUNTIME_DIR, reason, sizeof(reason));
        if (r < 0 && reason[0])
                return log_error("Refusing to start: %s", reason), EXIT_RUNTIME;
        if (r < 0)
                log_debug_errno(r, "No runtime directory %s: %m", RUNTIME_DIR);

        /* EnsureNotRunning + WritePID: one agent per host, held by a lock for the life of the process. */
        if (config->profile.pid_file) {
                pid_t holder = 0;

                r = pidfile_acquire(PIDFILE_PATH, &pidfile, &holder);
                if (r == -EBUSY) {
                        log_error("linuxguard is already running (PID %d)", (int)holder);
                        return EXIT_ALREADY_RUNNING;
                }
                if (r == -EPERM || r == -EBADFD)
                        return log_error("Refusing the PID file %s: it is %s. Remove it (rm %s) and start "
                                         "again.",
                                         PIDFILE_PATH,
                                         r == -EPERM ? "owned by another user, who could have planted it"
                                                     : "not a regular file",
                                         PIDFILE_PATH),
                               EXIT_RUNTIME;
                if (r < 0)
                        return log_error_errno(r, "Failed to create PID file %s: %m", PIDFILE_PATH),
                               EXIT_RUNTIME;
        }

        if (check_capabilities(config) < 0)
                return EXIT_CAPABILITY;

        r = manager_new(&m, config);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the event loop: %m"), EXIT_RUNTIME;
        r = manager_start(m);
        if (r < 0)
                return log_error_errno(r, "Failed to start the agent: %m"), EXIT_RUNTIME;

        if (config->profile.mode == MODE_HOST) {
                r = manager_start_host_identity(m);
                if (r < 0)
                        return EXIT_RUNTIME;
        } else {
                r = manager_start_ephemeral_identity(m);
                if (r < 0)
                        return manager_identity_exit_status(r); /* already logged */
        }

        log_info("linuxguard %s started in %s mode, output %s.", PACKAGE_VERSION,
                 agent_mode_to_string(config->profile.mode), sink_describe(m->sink));
        r = notify_watchdog_enable(config->profile.sd_notify, m->event);
        if (r < 0)
                log_warning_errno(r, "Failed to enable the systemd watchdog, ignoring: %m");
        (void)notify_ready(config->profile.sd_notify);
        manager_update_status(m);
        r = manager_run(m); /* logged there */
        return r < 0 ? EXIT_RUNTIME : r;
}

int run_start(int argc, char **argv)
{
        _cleanup_(start_args_done) StartArgs args = {};
        _cleanup_(agent_config_done) AgentConfig config = {};
        char error[1024] = "";
        int r;

        r = start_args_parse(argc, argv, &args, error, sizeof(error));
        if (r == -ENOMEM)
                return log_oom(), EXIT_RUNTIME;
        if (r < 0)
                return usage_error(error), EXIT_USAGE;
        if (args.help)
                return start_help(), EXIT_OK;

        r = load_config(&args, &config, error, sizeof(error));
        if (r == -ENOMEM)
                return log_oom(), EXIT_RUNTIME;
        if (r < 0 && *error)
                log_error("%s", error); /* else logged where it failed */
        if (r < 0)
                return EXIT_USAGE;

        /* From here the process holds the token, and soon a private key: no core dump, no /proc/PID/mem. */
        r = secure_mem_protect_process();
        if (r < 0)
                return log_error_errno(r, "Failed to make the process non-dumpable: %m"), EXIT_RUNTIME;

        r = load_token_file(&config, error, sizeof(error));
        if (r == -ENOMEM)
                return log_oom(), EXIT_RUNTIME;
        if (r < 0)
                return log_error("%s", error), EXIT_USAGE;

        r = default_output(&config);
        if (r < 0)
                return log_oom(), EXIT_RUNTIME;

        setup_logging(&config);
        warn_about_inputs(&config);

        if (args.dry_run)
                return agent_config_print(&config, stdout), EXIT_OK;

        /* As PID 1 this process only starts, reaps and signals the real agent; it keeps nothing. */
        if (config.profile.pid1_shim) {
                log_forget_secret(settings_str(&config.settings, SETTING_ENROLL_TOKEN));
                return pid1_shim_run(argc + 1, argv - 1, config.settings.v[SETTING_ENROLL_TOKEN].str);
        }

        return run_agent(&config);
}
