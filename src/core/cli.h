#pragma once
/* Command-line parsing for `linuxguard start`, driven by the settings table. */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/settings.h"

typedef struct StartArgs {
        bool help;
        bool dry_run;
        Settings flags; /* every value given on the command line, source FLAG */
} StartArgs;

/* Parses argv[1..] of `start` (argv[0] is "start"). On a bad flag or value writes one line naming the flag
 * and what it accepts to `error` and returns -EINVAL. A token given with --enroll-token is copied and its
 * argv bytes overwritten, so /proc/PID/cmdline stops showing it. */
int start_args_parse(int argc, char **argv, StartArgs *ret, char *error, size_t error_size);
void start_args_done(StartArgs *a);

void cli_print_start_options(FILE *f);
