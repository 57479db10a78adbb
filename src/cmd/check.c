/* `linuxguard check`.
 *
 * Runs the same checks the agent uses for its degraded reason, so what an operator sees here is what the
 * agent will say. It changes nothing on the system: the only kernel object it creates is a two-instruction
 * socket filter, closed at once. */

#include "cmd/commands.h"

#include <getopt.h>
#include <stdio.h>

#include "core/exit-status.h"
#include "sensors/preflight.h"
#include "util/macro.h"

static void check_help(void)
{
        printf("Usage: linuxguard check [--json]\n\n"
               "Check what the eBPF sensors need: architecture, kernel version, BTF, bpf() permitted,\n"
               "capabilities, lockdown, perf_event_paranoid, tracefs, memlock and /sys/fs/bpf, each with\n"
               "pass, fail or info and the fix for a failure.\n\n"
               "  --json     One JSON object instead of the table\n"
               "  -h --help  Show this help\n\n"
               "Exit status: 0 the sensors can run, 1 they cannot (the agent would run degraded), 2 "
               "usage.\n");
}

static int check_args_parse(int argc, char **argv, bool *ret_json, bool *ret_help)
{
        static const struct option opts[] = {
                {"json", no_argument, NULL, 'j'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case 'j':
                        *ret_json = true;
                        break;
                case 'h':
                        *ret_help = true;
                        break;
                default:
                        fprintf(stderr, "linuxguard check: unknown option '%s' (accepts --json, --help)\n",
                                argv[optind - 1]);
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "linuxguard check: unexpected argument '%s' (accepts --json, --help)\n",
                        argv[optind]);
                return -EINVAL;
        }
        return 0;
}

int run_check(int argc, char **argv)
{
        _cleanup_free_ char *text = NULL;
        PreflightReport report;
        bool json = false, help = false;
        int r;

        if (check_args_parse(argc, argv, &json, &help) < 0)
                return EXIT_USAGE;
        if (help)
                return check_help(), EXIT_OK;

        preflight_run(&report);
        r = json ? preflight_format_json(&report, &text) : preflight_format_table(&report, &text);
        if (r < 0) {
                fprintf(stderr, "linuxguard check: out of memory\n");
                return EXIT_RUNTIME;
        }
        fputs(text, stdout);
        if (json)
                fputc('\n', stdout);
        if (fflush(stdout) != 0)
                return EXIT_RUNTIME;
        return preflight_sensors_can_run(&report) ? EXIT_OK : EXIT_RUNTIME;
}
