/* Command-line parsing. getopt_long's option array is built from the settings table (and the command's
 * own few options), so that a flag cannot exist without its help text, environment binding and config
 * key being listed too, and every subcommand words its errors the same way. */

#include "core/cli.h"

#include <assert.h>
#include <errno.h>
#include <getopt.h>

#include "config.h"
#include "util/macro.h"

enum {
        OPT_OWN_BASE = 0x100,     /* + index into CliCommand.options */
        OPT_SETTING_BASE = 0x200, /* + SettingId */
};

static bool command_has_setting(const CliCommand *cmd, SettingId id)
{
        if (cmd->all_settings)
                return true;
        for (size_t i = 0; i < cmd->n_settings; i++)
                if (cmd->settings[i] == id)
                        return true;
        return false;
}

static void build_options(const CliCommand *cmd, struct option *opts, char *shorts)
{
        size_t o = 0, s = 0;

        shorts[s++] = ':';
        for (size_t i = 0; i < _SETTING_MAX; i++) {
                const SettingInfo *info = setting_info(i);

                if (!info->flag || !command_has_setting(cmd, i))
                        continue;
                opts[o++] = (struct option){
                        .name = info->flag,
                        .has_arg = info->flag_takes_value      ? required_argument
                                   : info->flag_value_optional ? optional_argument
                                                               : no_argument,
                        .val = OPT_SETTING_BASE + (int)i,
                };
        }
        for (size_t i = 0; i < cmd->n_options; i++) {
                opts[o++] = (struct option){cmd->options[i].name, cmd->options[i].has_arg, NULL,
                                            OPT_OWN_BASE + (int)i};
                if (cmd->options[i].short_name)
                        shorts[s++] = cmd->options[i].short_name;
        }
        opts[o] = (struct option){};
        shorts[s] = '\0';
}

static int parse_setting_flag(const CliCommand *cmd, SettingId id, char *arg, Settings *flags, char *error,
                              size_t error_size)
{
        const SettingInfo *info = setting_info(id);
        const char *value = arg;
        int r;

        if (info->type == SETTING_BOOL && !arg)
                value = "true";
        if (cmd->empty_value_is_missing && info->type == SETTING_STRING && isempty(value) &&
            id != SETTING_ENROLL_TOKEN) {
                snprintf(error, error_size, "--%s: a value is required (accepts %s)", info->flag,
                         info->accepts);
                return -EINVAL;
        }

        setting_value_reset(id, &flags->v[id]);
        /* An empty --enroll-token="" does not count as given: the trigger needs a non-empty token. */
        if (id == SETTING_ENROLL_TOKEN && isempty(value))
                return 0;

        r = isempty(value) ? -EINVAL : setting_parse(id, value, SOURCE_FLAG, &flags->v[id]);
        if (info->secret && arg)
                explicit_bzero(arg, strlen(arg));
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                char why[512];

                setting_describe_refusal(id, value, why, sizeof(why));
                snprintf(error, error_size, "--%s: %s", info->flag, why);
                return r;
        }
        return 0;
}

/* The option getopt refused, as the user wrote it: "-x" for a short one, else the argument itself. */
static void unknown_option(const CliCommand *cmd, char **argv, char *error, size_t error_size)
{
        const char *arg = argv[optind - 1];

        if (optopt > 0 && optopt < 0x80 && !startswith(arg, "--"))
                snprintf(error, error_size, "unknown option '-%c'%s", optopt, strempty(cmd->unknown_hint));
        else
                snprintf(error, error_size, "unknown option '%s'%s", arg, strempty(cmd->unknown_hint));
}

static int parse_options(const CliCommand *cmd, int argc, char **argv, Settings *flags, void *userdata,
                         int *ret_optind, char *error, size_t error_size)
{
        struct option opts[_SETTING_MAX + CLI_OPTIONS_MAX + 1];
        char shorts[CLI_OPTIONS_MAX + 2];
        int c, r;

        assert(cmd && argv && flags && error);
        assert(cmd->n_options <= CLI_OPTIONS_MAX);
        assert(cmd->n_options == 0 || cmd->on_option);

        build_options(cmd, opts, shorts);
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, shorts, opts, NULL)) >= 0) {
                if (c == ':' && cmd->missing_hint) {
                        snprintf(error, error_size, "%s: a value is required%s", argv[optind - 1],
                                 cmd->missing_hint);
                        return -EINVAL;
                }
                if (c == ':' || c == '?') {
                        unknown_option(cmd, argv, error, error_size);
                        return -EINVAL;
                }
                if (c >= OPT_SETTING_BASE) {
                        r = parse_setting_flag(cmd, c - OPT_SETTING_BASE, optarg, flags, error, error_size);
                        if (r < 0)
                                return r;
                        continue;
                }

                const CliOption *o = NULL;
                for (size_t i = 0; i < cmd->n_options && !o; i++)
                        if (c == OPT_OWN_BASE + (int)i || (c < 0x80 && c == cmd->options[i].short_name))
                                o = &cmd->options[i];
                assert(o);
                r = cmd->on_option(o->id, optarg, userdata, error, error_size);
                if (r == -ENOENT) {
                        unknown_option(cmd, argv, error, error_size);
                        return -EINVAL;
                }
                if (r < 0)
                        return r;
        }

        if (optind < argc && !cmd->positional) {
                snprintf(error, error_size, "unexpected argument '%s'%s", argv[optind],
                         strempty(cmd->unexpected_hint));
                return -EINVAL;
        }
        if (ret_optind)
                *ret_optind = optind;
        return 0;
}

int cli_parse(const CliCommand *cmd, int argc, char **argv, Settings *flags, void *userdata, int *ret_optind,
              char *error, size_t error_size)
{
        int r = parse_options(cmd, argc, argv, flags, userdata, ret_optind, error, error_size);

        /* A refusal leaves nothing to free. */
        if (r < 0)
                settings_done(flags);
        return r;
}

enum { START_HELP, START_DRY_RUN };

static int start_option(int id, const char *arg, void *userdata, char *error, size_t error_size)
{
        StartArgs *a = userdata;

        if (id == START_HELP)
                a->help = true;
        else
                a->dry_run = true;
        return 0;
}

int start_args_parse(int argc, char **argv, StartArgs *ret, char *error, size_t error_size)
{
        static const CliOption options[] = {
                {"dry-run", 0, no_argument, START_DRY_RUN},
                {"help", 'h', no_argument, START_HELP},
        };
        static const CliCommand cmd = {
                .options = options,
                .n_options = ELEMENTSOF(options),
                .all_settings = true,
                .empty_value_is_missing = true,
                .missing_hint = " (see 'linuxguard start --help')",
                .unknown_hint = " (see 'linuxguard start --help' for the accepted flags)",
                .unexpected_hint = " (start takes flags only)",
                .on_option = start_option,
        };

        *ret = (StartArgs){};
        return cli_parse(&cmd, argc, argv, &ret->flags, ret, NULL, error, error_size);
}

void start_args_done(StartArgs *a)
{
        settings_done(&a->flags);
}

void cli_print_start_options(FILE *f)
{
        for (size_t i = 0; i < _SETTING_MAX; i++) {
                const SettingInfo *info = setting_info(i);
                char flag[64], def[256];

                if (info->flag)
                        snprintf(flag, sizeof(flag), "--%s%s", info->flag,
                                 info->flag_takes_value      ? "=VALUE"
                                 : info->flag_value_optional ? "[=BOOL]"
                                                             : "");
                else
                        snprintf(flag, sizeof(flag), "(no flag)");
                fprintf(f, "  %-26s %s\n", flag, info->help);
                fprintf(f, "  %-26s   accepts: %s; env: %s; config: %s; default: %s\n", "", info->accepts,
                        info->env ?: "-", info->key ?: "-", setting_default_describe(i, def, sizeof(def)));
        }
        fprintf(f, "  %-26s %s\n", "--dry-run", "Resolve and print the mode and every setting, then exit");
        fprintf(f, "  %-26s %s\n", "-h, --help", "Show this help");
}
