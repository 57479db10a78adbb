/* `linuxguard check`.
 *
 * Runs the same checks the agent uses for its degraded reason, so what an operator sees here is what the
 * agent will say. It changes nothing on the system: the only kernel object it creates is a two-instruction
 * socket filter, closed at once. */

#include "cmd/commands.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/cli.h"
#include "core/exit-status.h"
#include "core/mode.h"
#include "sensors/preflight.h"
#include "util/macro.h"

static void check_help(void)
{
        printf("Usage: linuxguard check [--json]\n\n"
               "Check what the eBPF sensors need: architecture, kernel version, BTF, bpf() permitted,\n"
               "capabilities, lockdown, perf_event_paranoid, tracefs, memlock and /sys/fs/bpf, each with\n"
               "pass, fail or info and the fix for a failure. A missing tracefs passes when\n"
               "'linuxguard start' would mount it (host mode with CAP_SYS_ADMIN).\n\n"
               "  --json     One JSON object instead of the table\n"
               "  -h --help  Show this help\n\n"
               "Exit status: 0 the sensors can run, 1 they cannot (the agent would run degraded), 2 "
               "usage.\n");
}

typedef struct CheckArgs {
        bool json, help;
} CheckArgs;

enum { CHECK_JSON, CHECK_HELP };

static int check_option(int id, const char *arg, void *userdata, char *error, size_t error_size)
{
        CheckArgs *a = userdata;

        if (id == CHECK_JSON)
                a->json = true;
        else
                a->help = true;
        return 0;
}

static int check_args_parse(int argc, char **argv, CheckArgs *ret, char *error, size_t error_size)
{
        static const CliOption options[] = {
                {"json", 0, no_argument, CHECK_JSON},
                {"help", 'h', no_argument, CHECK_HELP},
        };
        static const CliCommand cmd = {
                .options = options,
                .n_options = ELEMENTSOF(options),
                .unknown_hint = " (accepts --json, --help)",
                .unexpected_hint = " (accepts --json, --help)",
                .on_option = check_option,
        };
        _cleanup_(settings_done) Settings none = {};

        return cli_parse(&cmd, argc, argv, &none, ret, NULL, error, error_size);
}

/* Whether `linuxguard start`, run here with this environment, would mount a missing tracefs. */
static bool tracefs_automount(void)
{
        ModeInputs in = {
                .choice = MODE_CHOICE_TRIGGERS,
                .enroll_token = getenv("LINUXGUARD_ENROLL_TOKEN"),
                .pid1_sentinel = getenv(PID1_SENTINEL_ENV),
                .pid = getpid(),
        };
        Profile p;

        mode_resolve(&in, getppid(), &p);
        return p.mount_tracefs;
}

int run_check(int argc, char **argv)
{
        _cleanup_free_ char *text = NULL;
        PreflightReport report;
        CheckArgs args = {};
        char error[512];
        bool json;
        int r;

        if (check_args_parse(argc, argv, &args, error, sizeof(error)) < 0) {
                fprintf(stderr, "linuxguard check: %s\n", error);
                return EXIT_USAGE;
        }
        if (args.help)
                return check_help(), EXIT_OK;
        json = args.json;

        preflight_run(tracefs_automount(), &report);
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
