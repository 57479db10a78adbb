#pragma once
/* Command-line parsing for every subcommand: one getopt_long loop, driven by the settings table for the
 * options that are settings and by the command's own list for the rest. */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/settings.h"

#define CLI_OPTIONS_MAX 8

/* An option of the command itself (not a setting), handed to CliCommand.on_option. */
typedef struct CliOption {
        const char *name; /* long option without dashes */
        char short_name;  /* e.g. 'h', or 0 */
        int has_arg;      /* no_argument or required_argument */
        int id;           /* passed to on_option */
} CliOption;

typedef struct CliCommand {
        const CliOption *options; /* at most CLI_OPTIONS_MAX */
        size_t n_options;
        const SettingId *settings; /* the settings that are flags of this command */
        size_t n_settings;
        bool all_settings; /* instead: every setting that has a flag */
        /* An empty value of a string setting: "a value is required (accepts ...)" when true, else
         * "invalid value \"\" (accepts ...)". */
        bool empty_value_is_missing;
        bool positional; /* arguments after the options are the caller's (ret_optind); else refused */
        /* Appended to the messages: "OPT: a value is required<missing_hint>" (NULL: a missing value is
         * an unknown option), "unknown option 'OPT'<unknown_hint>", "unexpected argument
         * 'ARG'<unexpected_hint>". */
        const char *missing_hint;
        const char *unknown_hint;
        const char *unexpected_hint;
        /* Returns 0; -ENOENT to refuse the option as unknown; another -errno with `error` written. */
        int (*on_option)(int id, const char *arg, void *userdata, char *error, size_t error_size);
} CliCommand;

/* Parses argv[1..] (argv[0] is the command's name). Setting flags land in `flags` (source FLAG) with the
 * table's checks; a secret's argv bytes are overwritten once copied, so /proc/PID/cmdline stops showing
 * it. On a bad flag or value writes one line naming it and what it accepts to `error` and returns
 * -EINVAL; a refusal leaves nothing in `flags` to free. `ret_optind` (may be NULL) gets the index of the
 * first positional argument. */
int cli_parse(const CliCommand *cmd, int argc, char **argv, Settings *flags, void *userdata, int *ret_optind,
              char *error, size_t error_size);

typedef struct StartArgs {
        bool help;
        bool dry_run;
        Settings flags; /* every value given on the command line, source FLAG */
} StartArgs;

/* `start`'s flags: every setting that has one, --dry-run and --help. */
int start_args_parse(int argc, char **argv, StartArgs *ret, char *error, size_t error_size);
void start_args_done(StartArgs *a);

void cli_print_start_options(FILE *f);
