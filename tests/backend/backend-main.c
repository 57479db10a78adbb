/* linuxguard-backend: the reference backend's command line.
 *
 * `serve` runs the HTTPS API; `token`, `ca` and `issue-client-cert` are the small tools a person or a test
 * needs around it. Every verb works on the same state directory, and each verb only parses its own
 * options, so a misspelt flag fails loudly instead of being ignored. */

#include <getopt.h>
#include <inttypes.h>
#include <limits.h>

#include "backend-faults.h"
#include "backend-pki.h"
#include "backend-server.h"
#include "backend-state.h"
#include "totp.h"
#include "util/log.h"

#define CERT_VALIDITY_DEFAULT 86400

enum {
        ARG_STATE_DIR = 0x100,
        ARG_LISTEN,
        ARG_PORT,
        ARG_READY_FILE,
        ARG_CERT_VALIDITY,
        ARG_TOTP_STEP,
        ARG_MAX_BODY,
        ARG_SERVE_OTHER_CA,
        ARG_FAIL503,
        ARG_RETRY_AFTER,
        ARG_DELAY_MS,
        ARG_CUT_CONNECTION,
        ARG_MALFORMED_JSON,
        ARG_HUGE_BODY,
        ARG_ENDLESS_BODY,
        ARG_SERVE_CERT,
        ARG_FAULT_PATH,
        ARG_TENANT,
        ARG_AT,
        ARG_OTHER_CA,
        ARG_OUT_CERT,
        ARG_OUT_KEY,
        ARG_AGENT_ID,
        ARG_WORKLOAD,
        ARG_EXPIRED,
        ARG_VALIDITY,
        ARG_LOG_LEVEL,
};

typedef struct Args {
        const char *state_dir, *listen, *ready_file, *tenant, *workload, *agent_id, *out_cert, *out_key;
        uint64_t port, cert_validity, totp_step, max_body, at, validity;
        bool serve_other_ca, other_ca, expired, have_at;
        const char *serve_cert;
        Faults faults;
        bool faults_set; /* any fault flag given: seed faults.json */
} Args;

static int parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || end == s || *end != 0 || s[0] == '-' || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

static int parse_uint_arg(const char *name, uint64_t max, uint64_t *ret)
{
        int r = parse_u64(optarg, max, ret);

        if (r < 0)
                return log_error_errno(r, "Invalid value for --%s: %s", name, optarg);
        return 0;
}

static int parse_fault(const char *name, unsigned *ret, Args *a)
{
        uint64_t v;
        int r = parse_uint_arg(name, UINT_MAX, &v);

        if (r < 0)
                return r;
        *ret = (unsigned)v;
        a->faults_set = true;
        return 0;
}

/* Applies one parsed option. */
static int apply_option(int c, const char *name, Args *a)
{
        switch (c) {
        case ARG_STATE_DIR:
                a->state_dir = optarg;
                return 0;
        case ARG_LISTEN:
                a->listen = optarg;
                return 0;
        case ARG_READY_FILE:
                a->ready_file = optarg;
                return 0;
        case ARG_TENANT:
                a->tenant = optarg;
                return 0;
        case ARG_WORKLOAD:
                a->workload = optarg;
                return 0;
        case ARG_AGENT_ID:
                a->agent_id = optarg;
                return 0;
        case ARG_OUT_CERT:
                a->out_cert = optarg;
                return 0;
        case ARG_OUT_KEY:
                a->out_key = optarg;
                return 0;
        case ARG_SERVE_OTHER_CA:
                a->serve_other_ca = true;
                return 0;
        case ARG_OTHER_CA:
                a->other_ca = true;
                return 0;
        case ARG_EXPIRED:
                a->expired = true;
                return 0;
        case ARG_PORT:
                return parse_uint_arg(name, UINT16_MAX, &a->port);
        case ARG_CERT_VALIDITY:
                return parse_uint_arg(name, INT32_MAX, &a->cert_validity);
        case ARG_VALIDITY:
                return parse_uint_arg(name, INT32_MAX, &a->validity);
        case ARG_TOTP_STEP:
                return parse_uint_arg(name, INT32_MAX, &a->totp_step);
        case ARG_MAX_BODY:
                return parse_uint_arg(name, SIZE_MAX / 2, &a->max_body);
        case ARG_AT:
                a->have_at = true;
                return parse_uint_arg(name, INT64_MAX, &a->at);
        case ARG_FAIL503:
                return parse_fault(name, &a->faults.fail503, a);
        case ARG_RETRY_AFTER:
                a->faults_set = true;
                return parse_uint_arg(name, INT64_MAX, &a->faults.retry_after);
        case ARG_HUGE_BODY:
                return parse_fault(name, &a->faults.huge_body, a);
        case ARG_ENDLESS_BODY:
                return parse_fault(name, &a->faults.endless_body, a);
        case ARG_SERVE_CERT:
                if (!streq(optarg, "expired") && !streq(optarg, "other-name"))
                        return log_error_errno(EINVAL, "--serve-cert takes expired or other-name.");
                a->serve_cert = optarg;
                return 0;
        case ARG_DELAY_MS:
                return parse_fault(name, &a->faults.delay_ms, a);
        case ARG_CUT_CONNECTION:
                return parse_fault(name, &a->faults.cut_connection, a);
        case ARG_MALFORMED_JSON:
                return parse_fault(name, &a->faults.malformed_json, a);
        case ARG_FAULT_PATH:
                a->faults_set = true;
                free(a->faults.path);
                a->faults.path = strdup(optarg);
                return a->faults.path ? 0 : log_oom();
        case ARG_LOG_LEVEL: {
                int l = log_level_from_string(optarg);
                if (l < 0)
                        return log_error_errno(l, "Invalid log level: %s", optarg);
                log_set_max_level(l);
                return 0;
        }
        default:
                return -EINVAL;
        }
}

static int parse_args(int argc, char *argv[], const struct option *opts, Args *a)
{
        int c, idx;

        *a = (Args){
                .listen = "127.0.0.1",
                .cert_validity = CERT_VALIDITY_DEFAULT,
                .totp_step = TOTP_STEP_DEF,
                .max_body = MAX_BODY_DEFAULT,
                .validity = 3600,
                .agent_id = "test-client",
                .tenant = NULL,
                .workload = "test-workload",
                .faults = {.retry_after = 1},
        };
        optind = 1;
        while ((c = getopt_long(argc, argv, "", opts, &idx)) >= 0) {
                if (c == '?')
                        return -EINVAL; /* getopt already said what */
                if (apply_option(c, opts[idx].name, a) < 0)
                        return -EINVAL;
        }
        if (optind < argc)
                return log_error_errno(EINVAL, "Unexpected argument: %s", argv[optind]);
        if (!a->state_dir)
                return log_error_errno(EINVAL, "--state-dir is required.");
        if (a->totp_step == 0)
                return log_error_errno(EINVAL, "--totp-step must be positive.");
        return 0;
}

#define OPT(n, id)                             \
        {                                      \
                n, required_argument, NULL, id \
        }
#define FLAG(n, id)                      \
        {                                \
                n, no_argument, NULL, id \
        }
#define COMMON_OPTS OPT("state-dir", ARG_STATE_DIR), OPT("log-level", ARG_LOG_LEVEL)

/* Writes the fault flags given to `serve` over DIR/faults.json. */
static int faults_seed(const char *dir, const Faults *flags)
{
        _cleanup_free_ char *file = state_path(dir, "faults.json", NULL);

        if (!file)
                return log_oom();
        int r = faults_save(file, flags);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %m", file);
        return 0;
}

static int verb_serve(int argc, char *argv[])
{
        static const struct option opts[] = {
                COMMON_OPTS,
                OPT("listen", ARG_LISTEN),
                OPT("port", ARG_PORT),
                OPT("ready-file", ARG_READY_FILE),
                OPT("cert-validity", ARG_CERT_VALIDITY),
                OPT("totp-step", ARG_TOTP_STEP),
                OPT("max-body", ARG_MAX_BODY),
                FLAG("serve-other-ca", ARG_SERVE_OTHER_CA),
                OPT("fail503", ARG_FAIL503),
                OPT("retry-after", ARG_RETRY_AFTER),
                OPT("delay-ms", ARG_DELAY_MS),
                OPT("cut-connection", ARG_CUT_CONNECTION),
                OPT("malformed-json", ARG_MALFORMED_JSON),
                OPT("huge-body", ARG_HUGE_BODY),
                OPT("endless-body", ARG_ENDLESS_BODY),
                OPT("serve-cert", ARG_SERVE_CERT),
                OPT("fault-path", ARG_FAULT_PATH),
                {},
        };
        Args a;
        int r;

        r = parse_args(argc, argv, opts, &a);
        if (r >= 0 && a.faults_set) {
                r = state_init(a.state_dir);
                if (r < 0)
                        log_error_errno(r, "Failed to create state directory %s: %m", a.state_dir);
                else
                        r = faults_seed(a.state_dir, &a.faults);
        }
        if (r >= 0) {
                ServerConfig cfg = {
                        .state_dir = a.state_dir,
                        .listen = a.listen,
                        .port = (uint16_t)a.port,
                        .ready_file = a.ready_file,
                        .cert_validity = a.cert_validity,
                        .totp_step = a.totp_step,
                        .max_body = (size_t)a.max_body,
                        .serve_other_ca = a.serve_other_ca,
                        .serve_cert = a.serve_cert,
                };
                r = server_run(&cfg);
        }
        faults_done(&a.faults);
        return r;
}

static int verb_token(int argc, char *argv[])
{
        static const struct option opts[] = {
                COMMON_OPTS, OPT("tenant", ARG_TENANT), OPT("at", ARG_AT), OPT("totp-step", ARG_TOTP_STEP),
                {},
        };
        unsigned char secret[TENANT_SECRET_SIZE];
        char token[TOTP_STRLEN];
        Args a;
        int r;

        r = parse_args(argc, argv, opts, &a);
        if (r < 0)
                return r;
        if (!state_name_valid(a.tenant))
                return log_error_errno(EINVAL,
                                       "--tenant is required ([A-Za-z0-9._:-], up to 128 characters).");
        r = state_init(a.state_dir);
        if (r < 0)
                return log_error_errno(r, "Failed to create state directory %s: %m", a.state_dir);
        r = tenant_secret_load(a.state_dir, a.tenant, true, secret);
        if (r < 0)
                return log_error_errno(r, "Failed to load the secret of tenant %s: %m", a.tenant);
        r = totp_generate(secret, sizeof(secret), a.have_at ? a.at : (uint64_t)time(NULL), a.totp_step,
                          token);
        explicit_bzero(secret, sizeof(secret));
        if (r < 0)
                return log_error_errno(r, "Failed to compute the token: %m");
        printf("%s\n", token);
        explicit_bzero(token, sizeof(token));
        return 0;
}

static int verb_ca(int argc, char *argv[])
{
        static const struct option opts[] = {
                COMMON_OPTS,
                FLAG("other-ca", ARG_OTHER_CA),
                {},
        };
        _cleanup_(pki_freep) Pki *pki = NULL;
        _cleanup_free_ char *path = NULL;
        Args a;
        int r;

        r = parse_args(argc, argv, opts, &a);
        if (r < 0)
                return r;
        r = state_init(a.state_dir);
        if (r < 0)
                return log_error_errno(r, "Failed to create state directory %s: %m", a.state_dir);
        r = pki_load(a.state_dir, a.other_ca, &pki);
        if (r < 0)
                return log_error_errno(r, "Failed to load or create the CA in %s: %m", a.state_dir);
        path = realpath(a.state_dir, NULL);
        if (!path)
                return log_error_errno(errno, "Failed to resolve %s: %m", a.state_dir);
        printf("%s/%sca.crt\n", path, a.other_ca ? "other-" : "");
        return 0;
}

static int verb_issue_client_cert(int argc, char *argv[])
{
        static const struct option opts[] = {
                COMMON_OPTS,
                OPT("out-cert", ARG_OUT_CERT),
                OPT("out-key", ARG_OUT_KEY),
                OPT("agent-id", ARG_AGENT_ID),
                OPT("tenant", ARG_TENANT),
                OPT("workload", ARG_WORKLOAD),
                OPT("validity", ARG_VALIDITY),
                FLAG("expired", ARG_EXPIRED),
                FLAG("other-ca", ARG_OTHER_CA),
                {},
        };
        _cleanup_(pki_freep) Pki *pki = NULL;
        _cleanup_free_ char *crt = NULL;
        _cleanup_secret_ char *key = NULL;
        time_t t = time(NULL);
        Args a;
        int r;

        r = parse_args(argc, argv, opts, &a);
        if (r < 0)
                return r;
        if (!a.out_cert || !a.out_key)
                return log_error_errno(EINVAL, "--out-cert and --out-key are required.");
        r = state_init(a.state_dir);
        if (r >= 0)
                r = pki_load(a.state_dir, a.other_ca, &pki);
        if (r < 0)
                return log_error_errno(r, "Failed to load or create the CA in %s: %m", a.state_dir);

        ClientCertSpec spec = {
                .agent_id = a.agent_id,
                .tenant = a.tenant ?: "test-tenant",
                .workload = a.workload,
                /* An expired certificate that was valid for an hour until an hour ago. */
                .not_before = a.expired ? t - 7200 : t - 60,
                .not_after = a.expired ? t - 3600 : t + (time_t)a.validity,
        };
        r = pki_issue_client(pki, &spec, &crt, &key);
        if (r < 0)
                return log_error_errno(r, "Failed to issue the client certificate: %m");
        r = write_file_atomic(a.out_key, key, strlen(key), 0600);
        if (r >= 0)
                r = write_file_atomic(a.out_cert, crt, strlen(crt), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write the certificate or key: %m");
        return 0;
}

static void help(void)
{
        printf("linuxguard-backend VERB [OPTIONS]\n\n"
               "Reference backend for linuxguard: an HTTPS enrolment and event API for tests and demos.\n\n"
               "  serve --state-dir DIR [--listen ADDR] [--port N] [--ready-file PATH]\n"
               "        [--cert-validity SEC] [--totp-step SEC] [--max-body BYTES] [--serve-other-ca]\n"
               "        [--fail503 N] [--retry-after SEC] [--delay-ms MS] [--cut-connection N]\n"
               "        [--malformed-json N] [--huge-body N] [--endless-body N]\n"
               "        [--serve-cert expired|other-name] [--fault-path PATH] [--log-level LEVEL]\n"
               "  token --state-dir DIR --tenant T [--at UNIXTIME] [--totp-step SEC]\n"
               "  ca --state-dir DIR [--other-ca]\n"
               "  issue-client-cert --state-dir DIR --out-cert F --out-key F [--agent-id ID]\n"
               "        [--tenant T] [--workload W] [--validity SEC] [--expired] [--other-ca]\n\n"
               "See docs/api.md.\n");
}

int main(int argc, char *argv[])
{
        static const struct {
                const char *name;
                int (*run)(int argc, char *argv[]);
        } verbs[] = {
                {"serve", verb_serve},
                {"token", verb_token},
                {"ca", verb_ca},
                {"issue-client-cert", verb_issue_client_cert},
        };

        if (argc < 2 || streq(argv[1], "help") || streq(argv[1], "--help")) {
                help();
                return argc < 2 ? EXIT_FAILURE : EXIT_SUCCESS;
        }
        FOREACH_ARRAY (v, verbs, ELEMENTSOF(verbs))
                if (streq(v->name, argv[1]))
                        return v->run(argc - 1, argv + 1) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        log_error("Unknown verb '%s'; try 'linuxguard-backend help'.", argv[1]);
        return EXIT_FAILURE;
}
