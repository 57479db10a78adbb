/* `linuxguard enroll`.
 *
 * On a host a token on `start` would mean ephemeral mode, so enrolment is this separate step: resolve
 * tenant, API and workload identity the way `start` does (flag > environment > config file > default),
 * take the token from a systemd credential, a file or stdin, enrol on an sd-event loop and persist the
 * identity with the host store. A host that already holds a usable enrolment for the same tenant and
 * workload is left alone: the backend would refuse a second CSR under the same Idempotency-Key. */

#include "cmd/commands.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <systemd/sd-id128.h>
#include <termios.h>

#include "config.h"
#include "core/agent-config.h"
#include "core/cli.h"
#include "core/exit-status.h"
#include "core/mode.h"
#include "identity/host-store.h"
#include "identity/machine-id.h"
#include "identity/token-source.h"
#include "net/enroll.h"
#include "util/environ-util.h"
#include "util/log.h"
#include "util/secure-mem.h"

extern char **environ;

/* Must equal start.c's: both derive the host's workload id from it. */
#define TOKEN_CREDENTIAL "enroll-token"
#define TOKEN_MAX        4096

typedef struct EnrollArgs {
        bool help;
        const char *state_dir;
        Settings flags;
} EnrollArgs;

typedef struct EnrollRun {
        sd_event *event;
        int r;
        TlsIdentity *identity;
        char *error_text;
} EnrollRun;

static const SettingId enroll_flags[] = {
        SETTING_CONFIG,      SETTING_TENANT_ID,         SETTING_API_URL,        SETTING_CA_FILE,
        SETTING_WORKLOAD_ID, SETTING_ENROLL_TOKEN_FILE, SETTING_ENROLL_TIMEOUT,
};

static void enroll_help(void)
{
        printf("Usage: linuxguard enroll --tenant-id=ID [OPTIONS]\n\n"
               "Enrol this host and store the identity in %s. The token is read from the systemd\n"
               "credential '%s', from --enroll-token-file, or from stdin (prompted on a terminal).\n"
               "Settings resolve as flag > environment > config file > default, as for 'start'.\n\n"
               "Options:\n",
               HOST_STATE_DIR, TOKEN_CREDENTIAL);
        for (size_t i = 0; i < ELEMENTSOF(enroll_flags); i++) {
                const SettingInfo *info = setting_info(enroll_flags[i]);
                char flag[64];

                snprintf(flag, sizeof(flag), "--%s=VALUE", info->flag);
                printf("  %-26s %s (accepts %s)\n", flag, info->help, info->accepts);
        }
        printf("  %-26s %s\n\nExit status: 0 enrolled or already enrolled, 1 failure, 2 usage, "
               "3 refused by the backend, 4 gave up retrying.\n",
               "-h, --help", "Show this help");
}

static void usage_error(const char *msg)
{
        fprintf(stderr, "linuxguard enroll: %s\n", msg);
}

enum { ENROLL_HELP, ENROLL_STATE_DIR };

static int enroll_option(int id, const char *arg, void *userdata, char *error, size_t error_size)
{
        EnrollArgs *a = userdata;

        if (id == ENROLL_HELP)
                a->help = true;
        else
                a->state_dir = arg;
        return 0;
}

static int enroll_args_parse(int argc, char **argv, EnrollArgs *ret, char *error, size_t error_size)
{
        static const CliOption options[] = {
                {"state-dir", 0, required_argument, ENROLL_STATE_DIR}, /* tests */
                {"help", 'h', no_argument, ENROLL_HELP},
        };
        static const CliCommand cmd = {
                .options = options,
                .n_options = ELEMENTSOF(options),
                .settings = enroll_flags,
                .n_settings = ELEMENTSOF(enroll_flags),
                .missing_hint = "",
                .unknown_hint = " (see 'linuxguard enroll --help' for the accepted flags)",
                .unexpected_hint = " (enroll takes flags only)",
                .on_option = enroll_option,
        };

        return cli_parse(&cmd, argc, argv, &ret->flags, ret, NULL, error, error_size);
}

/* The layers of `start`, resolved as a host: a token in the environment is not a mode trigger here. */
static int resolve_config(EnrollArgs *args, AgentConfig *ret, char *error, size_t error_size)
{
        _cleanup_free_ char *mid = NULL;
        int r;

        if (!isempty(getenv("LINUXGUARD_ENROLL_TOKEN")))
                log_warning("LINUXGUARD_ENROLL_TOKEN is ignored by 'enroll'; pass the token on stdin, with "
                            "--enroll-token-file or as the credential '%s'.",
                            TOKEN_CREDENTIAL);
        mid = machine_app_id();
        r = agent_config_load(
                &(const AgentConfigRequest){
                        .mode = MODE_CHOICE_HOST,
                        .flags = &args->flags,
                        .envp = (const char *const *)environ,
                        .ignore_env_token = true,
                        .pid = getpid(),
                        .ppid = getppid(),
                        .machine_id = mid,
                },
                ret, error, error_size);
        environ_scrub("LINUXGUARD_ENROLL_TOKEN");
        return r;
}

static char *trim_token(char *s)
{
        size_t l;

        s += strspn(s, " \t\r\n");
        l = strlen(s);
        while (l > 0 && strchr(" \t\r\n", s[l - 1]))
                l--;
        return secure_strndup(s, l);
}

/* Reads at most TOKEN_MAX bytes from `fd` (up to EOF, or the first newline for a terminal) into locked
 * memory, trimmed; -EFBIG if there is more. */
static int read_token_fd(int fd, bool one_line, char **ret)
{
        char buf[TOKEN_MAX + 2] = {};
        size_t size = 0;
        int r = 0;

        while (size <= TOKEN_MAX) {
                ssize_t n = read(fd, buf + size, TOKEN_MAX + 1 - size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = n < 0 ? -errno : 0;
                        break;
                }
                size += (size_t)n;
                if (one_line && memchr(buf, '\n', size))
                        break;
        }
        if (r >= 0 && size > TOKEN_MAX)
                r = -EFBIG;
        if (r >= 0) {
                *ret = trim_token(buf);
                r = *ret ? 0 : -ENOMEM;
        }
        explicit_bzero(buf, sizeof(buf));
        return r;
}

/* The file checks (regular, no symlink, owner-only) are token_source's; systemd's credential copies
 * pass them. The result moves into locked memory. */
static int read_token_file(const char *path, char **ret, char *error, size_t error_size)
{
        _cleanup_secret_ char *t = NULL;
        int r;

        r = token_source_read_file(path, &t, error, error_size);
        if (r < 0)
                return r;
        *ret = trim_token(t);
        return *ret ? 0 : -ENOMEM;
}

static int read_token_tty(char **ret)
{
        struct termios old, quiet;
        bool restore;
        int r;

        fprintf(stderr, "Enrolment token: ");
        fflush(stderr);
        restore = tcgetattr(STDIN_FILENO, &old) >= 0;
        if (restore) {
                quiet = old;
                quiet.c_lflag &= ~(tcflag_t)ECHO;
                quiet.c_lflag |= ICANON;
                (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        }
        r = read_token_fd(STDIN_FILENO, true, ret);
        if (restore)
                (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
        return r;
}

/* --enroll-token-file (flag, environment or config file), else the credential, else stdin. */
static int read_token(const Settings *s, char **ret, char *error, size_t error_size)
{
        const char *file = settings_str(s, SETTING_ENROLL_TOKEN_FILE),
                   *creds = getenv("CREDENTIALS_DIRECTORY");
        _cleanup_free_ char *cred = NULL;
        int r;

        if (file)
                r = read_token_file(file, ret, error, error_size);
        else if (creds && asprintf(&cred, "%s/%s", creds, TOKEN_CREDENTIAL) >= 0 && access(cred, F_OK) >= 0)
                r = read_token_file(cred, ret, error, error_size);
        else if (isatty(STDIN_FILENO))
                r = read_token_tty(ret);
        else
                r = read_token_fd(STDIN_FILENO, false, ret);
        if (r < 0 && r != -ENOMEM && !*error)
                snprintf(error, error_size, "cannot read the enrolment token from stdin: %s",
                         r == -EFBIG ? "too long" : strerror(-r));
        if (r >= 0 && isempty(*ret)) {
                *ret = secure_free(*ret);
                snprintf(error, error_size,
                         "no enrolment token: pass it on stdin, with --enroll-token-file, or as the systemd "
                         "credential '%s' (LoadCredential=)",
                         TOKEN_CREDENTIAL);
                return -ENODATA;
        }
        return r;
}

static void on_enrolled(int r, TlsIdentity *identity, const char *error_text, void *userdata)
{
        EnrollRun *run = userdata;

        run->r = r;
        run->identity = identity;
        run->error_text = error_text ? strdup(error_text) : NULL;
        (void)sd_event_exit(run->event, 0);
}

static int exit_status_for(int r)
{
        switch (r) {
        case -EACCES:
        case -EPERM:
                return EXIT_ENROLL_REFUSED;
        case -ETIMEDOUT:
                return EXIT_ENROLL_GAVE_UP;
        case -EINVAL:
        case -ENOENT: /* the CA file cannot be loaded: configuration */
                return EXIT_USAGE;
        default:
                return EXIT_RUNTIME;
        }
}

static void report_failure(int r, const char *text, unsigned attempts)
{
        if (r == -EACCES || r == -EPERM)
                log_error("The backend refused the enrolment: %s", strna(text));
        else if (r == -ETIMEDOUT)
                log_error("Gave up enrolling after %u attempts: %s", attempts, strna(text));
        else
                log_error_errno(r, "Enrolment failed: %s", text ?: "%m");
}

static int save(const char *dir, const AgentConfig *c, const char *agent_id, TlsIdentity *id)
{
        HostEnrolment e = {
                .agent_id = (char *)agent_id,
                .tenant_id = (char *)settings_str(&c->settings, SETTING_TENANT_ID),
                .workload_id = (char *)c->workload_id,
                .expires_at = tls_identity_get_not_after(id),
        };
        char when[64];
        int r;

        r = host_store_save(dir, id, &e);
        if (r < 0)
                return log_error_errno(r, "Enrolled as agent %s, but failed to save the identity in %s: %m",
                                       agent_id, dir);
        printf("Enrolled as agent %s in tenant %s, certificate valid until %s; saved in %s.\n", agent_id,
               e.tenant_id, format_rfc3339(e.expires_at, when, sizeof(when)), dir);
        return 0;
}

/* 1 when a usable enrolment for this tenant and workload is already stored. */
static int already_enrolled(const char *dir, const AgentConfig *c)
{
        _cleanup_(tls_identity_freep) TlsIdentity *id = NULL;
        _cleanup_(host_enrolment_done) HostEnrolment e = {};
        char when[64];
        int r;

        r = host_store_load(dir, &id, &e);
        if (r == -EBADMSG)
                log_warning("The enrolment stored in %s is unusable; enrolling again.", dir);
        if (r <= 0)
                return r == -EBADMSG ? 0 : r;
        if (!streq(e.tenant_id, settings_str(&c->settings, SETTING_TENANT_ID)) ||
            !streq(e.workload_id, c->workload_id)) {
                log_notice("%s holds agent %s of another tenant or workload; enrolling again.", dir,
                           e.agent_id);
                return 0;
        }
        r = tls_identity_verify(id, now(CLOCK_REALTIME));
        if (r < 0) {
                log_notice("Stored agent %s: %s; enrolling again.", e.agent_id,
                           tls_identity_verify_strerror(r));
                return 0;
        }
        printf("Already enrolled as agent %s in tenant %s, certificate valid until %s; nothing to do.\n",
               e.agent_id, e.tenant_id, format_rfc3339(e.expires_at, when, sizeof(when)));
        return 1;
}

static int enroll_and_save(const AgentConfig *c, const char *token, const char *dir)
{
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(enroll_freep) Enroll *enroll = NULL;
        _cleanup_(tls_identity_freep) TlsIdentity *id = NULL;
        _cleanup_free_ char *text = NULL;
        EnrollRun run = {};
        char hostname[256] = "localhost";
        EnrollParams p;
        int r;

        (void)gethostname(hostname, sizeof(hostname) - 1);
        p = enroll_params_from_config(c, token, hostname);

        r = sd_event_new(&event);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the event loop: %m"), EXIT_RUNTIME;
        run.event = event;
        r = enroll_start(&enroll, event, &p, on_enrolled, &run);
        if (r < 0)
                return log_error_errno(r, "Failed to start enrolling: %m"), exit_status_for(r);
        log_info("Enrolling workload %s in tenant %s at %s.", c->workload_id, p.tenant_id, p.api_url);
        r = sd_event_loop(event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m"), EXIT_RUNTIME;

        id = run.identity;
        text = run.error_text;
        if (run.r < 0)
                return report_failure(run.r, text, enroll_get_attempts(enroll)), exit_status_for(run.r);
        return save(dir, c, enroll_get_agent_id(enroll), id) < 0 ? EXIT_RUNTIME : EXIT_OK;
}

int run_enroll(int argc, char **argv)
{
        _cleanup_(agent_config_done) AgentConfig config = {};
        _cleanup_secure_ char *token = NULL;
        EnrollParams params;
        EnrollArgs args = {};
        char error[1024] = "";
        const char *dir, *problem;
        int r;

        /* enroll reads a token and makes the host's private key: no core dump, no /proc/PID/mem. */
        r = secure_mem_protect_process();
        if (r < 0)
                return log_error_errno(r, "Failed to make the process non-dumpable: %m"), EXIT_RUNTIME;

        r = enroll_args_parse(argc, argv, &args, error, sizeof(error));
        if (r >= 0 && !args.help)
                r = resolve_config(&args, &config, error, sizeof(error));
        settings_done(&args.flags);
        if (r == -ENOMEM)
                return log_oom(), EXIT_RUNTIME;
        if (r < 0)
                return usage_error(error), EXIT_USAGE;
        if (args.help)
                return enroll_help(), EXIT_OK;

        log_set_max_level(log_level_from_string(settings_str(&config.settings, SETTING_LOG_LEVEL)));
        log_set_format(log_format_from_string(settings_str(&config.settings, SETTING_LOG_FORMAT)));
        log_set_target(LOG_TARGET_AUTO);
        dir = args.state_dir ?: HOST_STATE_DIR;
        if (!config.has_workload_id)
                return usage_error("no workload identity: /etc/machine-id is missing; pass --workload-id"),
                       EXIT_USAGE;
        /* Refuse an incomplete configuration before asking for the token. */
        params = enroll_params_from_config(&config, "-", "-");
        problem = enroll_params_check(&params);
        if (problem)
                return usage_error(problem), EXIT_USAGE;

        r = already_enrolled(dir, &config);
        if (r < 0)
                return log_error_errno(r, "Failed to read the enrolment stored in %s: %m", dir),
                       EXIT_RUNTIME;
        if (r > 0)
                return EXIT_OK;

        r = read_token(&config.settings, &token, error, sizeof(error));
        if (r == -ENOMEM)
                return log_oom(), EXIT_RUNTIME;
        if (r < 0)
                return usage_error(error), EXIT_USAGE;
        return enroll_and_save(&config, token, dir);
}
