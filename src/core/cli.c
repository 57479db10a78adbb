/* Command-line parsing. getopt_long's option array is built from the settings table so that a flag
 * cannot exist without its help text, environment binding and config key being listed too. */

#include "core/cli.h"

#include <errno.h>
#include <getopt.h>

#include "config.h"
#include "util/macro.h"

enum {
        OPT_HELP = 'h',
        OPT_DRY_RUN = 0x100,
        OPT_SETTING_BASE = 0x200, /* + SettingId */
};

static size_t build_options(struct option *opts, size_t n)
{
        size_t o = 0;

        for (size_t i = 0; i < _SETTING_MAX && o + 3 < n; i++) {
                const SettingInfo *info = setting_info(i);
                if (!info->flag)
                        continue;
                opts[o++] = (struct option){
                        .name = info->flag,
                        .has_arg = info->flag_takes_value         ? required_argument
                                   : i == SETTING_LOADER_EMBEDDED ? optional_argument
                                                                  : no_argument,
                        .val = OPT_SETTING_BASE + (int)i,
                };
        }
        opts[o++] = (struct option){"dry-run", no_argument, NULL, OPT_DRY_RUN};
        opts[o++] = (struct option){"help", no_argument, NULL, OPT_HELP};
        opts[o] = (struct option){};
        return o;
}

/* The argv slot getopt just consumed, to find the bytes of an --enroll-token value. */
static void wipe_arg(char *value)
{
        if (value)
                explicit_bzero(value, strlen(value));
}

static int parse_setting_flag(SettingId id, char *arg, StartArgs *ret, char *error, size_t error_size)
{
        const SettingInfo *info = setting_info(id);
        const char *value = arg;
        int r;

        if (info->type == SETTING_BOOL && !arg)
                value = "true";
        if (info->type == SETTING_STRING && isempty(value) && id != SETTING_ENROLL_TOKEN) {
                snprintf(error, error_size, "--%s: a value is required (accepts %s)", info->flag,
                         info->accepts);
                return -EINVAL;
        }

        setting_value_reset(id, &ret->flags.v[id]);
        /* An empty --enroll-token="" does not count as given: the trigger needs a non-empty token. */
        if (id == SETTING_ENROLL_TOKEN && isempty(value))
                return 0;

        r = setting_parse(id, value, SOURCE_FLAG, &ret->flags.v[id]);
        if (info->secret)
                wipe_arg(arg);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                if (info->secret)
                        snprintf(error, error_size, "--%s: invalid value (accepts %s)", info->flag,
                                 info->accepts);
                else
                        snprintf(error, error_size, "--%s: invalid value \"%s\" (accepts %s)", info->flag,
                                 value, info->accepts);
                return r;
        }
        return 0;
}

static int parse_start_args(int argc, char **argv, StartArgs *ret, char *error, size_t error_size)
{
        struct option opts[_SETTING_MAX + 3];
        int c, r;

        build_options(opts, ELEMENTSOF(opts));
        *ret = (StartArgs){};
        optind = 0;
        opterr = 0;

        while ((c = getopt_long(argc, argv, ":h", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_HELP:
                        ret->help = true;
                        break;
                case OPT_DRY_RUN:
                        ret->dry_run = true;
                        break;
                case ':':
                        snprintf(error, error_size,
                                 "%s: a value is required (see 'linuxguard start --help')",
                                 argv[optind - 1]);
                        return -EINVAL;
                case '?':
                        if (optopt)
                                snprintf(error, error_size,
                                         "unknown option '-%c' (see 'linuxguard start --help' for the "
                                         "accepted flags)",
                                         optopt);
                        else
                                snprintf(error, error_size,
                                         "unknown option '%s' (see 'linuxguard start --help' for the "
                                         "accepted flags)",
                                         argv[optind - 1]);
                        return -EINVAL;
                default:
                        r = parse_setting_flag(c - OPT_SETTING_BASE, optarg, ret, error, error_size);
                        if (r < 0)
                                return r;
                }
        }

        if (optind < argc) {
                snprintf(error, error_size, "unexpected argument '%s' (start takes flags only)",
                         argv[optind]);
                return -EINVAL;
        }
        return 0;
}

int start_args_parse(int argc, char **argv, StartArgs *ret, char *error, size_t error_size)
{
        int r = parse_start_args(argc, argv, ret, error, error_size);

        /* A refusal leaves nothing to free. */
        if (r < 0)
                start_args_done(ret);
        return r;
}

void start_args_done(StartArgs *a)
{
        settings_done(&a->flags);
}

int settings_defaults(bool loader_embedded, Settings *ret)
{
        static const struct {
                SettingId id;
                const char *value;
        } table[] = {
                {SETTING_CONFIG, DEFAULT_CONFIG_FILE},
                {SETTING_EPHEMERAL, "false"},
                {SETTING_TLS_CACHE, "false"},
                {SETTING_API_URL, DEFAULT_API_URL},
                {SETTING_OUTPUT, "stdout"},
                {SETTING_LOG_LEVEL, "info"},
                {SETTING_LOG_FORMAT, "text"},
                {SETTING_HEARTBEAT_INTERVAL, "30"},
                {SETTING_ENROLL_TIMEOUT, "300"},
                {SETTING_SENSOR_PROCESS, "true"},
                {SETTING_SENSOR_FILE, "true"},
                {SETTING_SENSOR_NETWORK, "true"},
                {SETTING_SENSOR_KERNEL, "true"},
                {SETTING_RING_BUFFER_SIZE, "4194304"},
                {SETTING_FILE_PREFIXES, DEFAULT_FILE_PREFIXES},
                {SETTING_PID_ALLOW, ""},
                {SETTING_PID_DENY, ""},
                {SETTING_CGROUP_ALLOW, ""},
                {SETTING_CGROUP_DENY, ""},
                {SETTING_BATCH_MAX_EVENTS, "1000"},
                {SETTING_BATCH_MAX_BYTES, "1048576"},
                {SETTING_BATCH_MAX_AGE_MS, "1000"},
                {SETTING_QUEUE_MAX_BYTES, "16777216"},
                {SETTING_SPOOL_MAX_BYTES, "268435456"},
                {SETTING_CONTROL_SOCKET, "/run/linuxguard/control.sock"},
        };
        int r;

        *ret = (Settings){};
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                r = setting_parse(table[i].id, table[i].value, SOURCE_DEFAULT, &ret->v[table[i].id]);
                if (r < 0)
                        return r;
        }
        return setting_parse(SETTING_LOADER_EMBEDDED, loader_embedded ? "true" : "false", SOURCE_DEFAULT,
                             &ret->v[SETTING_LOADER_EMBEDDED]);
}

static const char *default_text(SettingId id)
{
        switch (id) {
        case SETTING_CONFIG:
                return DEFAULT_CONFIG_FILE;
        case SETTING_API_URL:
                return DEFAULT_API_URL " (channel default)";
        case SETTING_OUTPUT:
                return "stdout";
        case SETTING_LOG_LEVEL:
                return "info";
        case SETTING_LOG_FORMAT:
                return "text";
        case SETTING_HEARTBEAT_INTERVAL:
                return "30";
        case SETTING_ENROLL_TIMEOUT:
                return "300";
        case SETTING_SENSOR_PROCESS:
        case SETTING_SENSOR_FILE:
        case SETTING_SENSOR_NETWORK:
        case SETTING_SENSOR_KERNEL:
                return "on";
        case SETTING_RING_BUFFER_SIZE:
                return "4194304";
        case SETTING_FILE_PREFIXES:
                return "[ \"/etc/\", \"/root/.ssh/\", \"/var/run/secrets/\", \"/run/secrets/\" ]";
        case SETTING_PID_ALLOW:
        case SETTING_CGROUP_ALLOW:
                return "empty (every process)";
        case SETTING_PID_DENY:
        case SETTING_CGROUP_DENY:
                return "empty";
        case SETTING_BATCH_MAX_EVENTS:
                return "1000";
        case SETTING_BATCH_MAX_BYTES:
                return "1048576";
        case SETTING_BATCH_MAX_AGE_MS:
                return "1000";
        case SETTING_QUEUE_MAX_BYTES:
                return "16777216";
        case SETTING_SPOOL_MAX_BYTES:
                return "268435456";
        case SETTING_CONTROL_SOCKET:
                return "/run/linuxguard/control.sock, or @linuxguard/control where that cannot be created";
        case SETTING_METRICS_LISTEN:
                return "off";
        case SETTING_LOADER_EMBEDDED:
                return BUILT_WITH_LOADER_EMBEDDED ? "on in ephemeral mode, off on hosts" : "off";
        case SETTING_EPHEMERAL:
        case SETTING_TLS_CACHE:
                return "off";
        case SETTING_CA_FILE:
                return "system trust store";
        case SETTING_WORKLOAD_ID:
                return "derived (see IDENTITY)";
        default:
                return "none";
        }
}

void cli_print_start_options(FILE *f)
{
        for (size_t i = 0; i < _SETTING_MAX; i++) {
                const SettingInfo *info = setting_info(i);
                char flag[64];

                if (info->flag)
                        snprintf(flag, sizeof(flag), "--%s%s", info->flag,
                                 info->flag_takes_value         ? "=VALUE"
                                 : i == SETTING_LOADER_EMBEDDED ? "[=BOOL]"
                                                                : "");
                else
                        snprintf(flag, sizeof(flag), "(no flag)");
                fprintf(f, "  %-26s %s\n", flag, info->help);
                fprintf(f, "  %-26s   accepts: %s; env: %s; config: %s; default: %s\n", "", info->accepts,
                        info->env ?: "-", info->key ?: "-", default_text(i));
        }
        fprintf(f, "  %-26s %s\n", "--dry-run", "Resolve and print the mode and every setting, then exit");
        fprintf(f, "  %-26s %s\n", "-h, --help", "Show this help");
}
