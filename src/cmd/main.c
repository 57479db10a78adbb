/* linuxguard: dispatch to the subcommand. */

#include <stdio.h>

#include "cmd/commands.h"
#include "config.h"
#include "core/cli.h"
#include "core/exit-status.h"
#include "util/macro.h"

static int help(void)
{
        printf("linuxguard %s: Linux host-security agent (eBPF sensors, mTLS telemetry).\n\n"
               "Usage: linuxguard COMMAND [OPTIONS]\n\n"
               "Commands:\n"
               "  start      Run the agent (see 'linuxguard start --help')\n"
               "  enroll     Enrol this host and store its identity (see 'linuxguard enroll --help')\n"
               "  check      Check what the eBPF sensors need; exit 1 if they cannot run\n"
               "  status     Show the running agent's state and counters (--json for JSON)\n"
               "  health     Exit 0 if the running agent is healthy, 1 if not (for exec probes)\n"
               "  bpf        Load, unload or inspect the pinned eBPF sensors (see 'linuxguard bpf --help')\n"
               "  version    Print the version and build options\n"
               "  help       Show this help\n\n"
               "Options of 'start':\n",
               PACKAGE_VERSION);
        cli_print_start_options(stdout);
        printf("\nSee linuxguard(8) for modes, exit statuses and examples.\n");
        return EXIT_OK;
}

static int version(void)
{
        printf("linuxguard %s\n%cloader_embedded default_api_url=%s\n", PACKAGE_VERSION,
               BUILT_WITH_LOADER_EMBEDDED ? '+' : '-', DEFAULT_API_URL);
        return EXIT_OK;
}

int main(int argc, char **argv)
{
        const char *cmd = argc > 1 ? argv[1] : NULL;

        if (!cmd) {
                fprintf(stderr, "linuxguard: missing command (accepts start, version, help)\n");
                return EXIT_USAGE;
        }
        if (streq(cmd, "start"))
                return run_start(argc - 1, argv + 1);
        if (streq(cmd, "enroll"))
                return run_enroll(argc - 1, argv + 1);
        if (streq(cmd, "bpf"))
                return run_bpf(argc - 1, argv + 1);
        if (streq(cmd, "check"))
                return run_check(argc - 1, argv + 1);
        if (streq(cmd, "status") || streq(cmd, "health"))
                return run_status(argc - 1, argv + 1);
        if (streq(cmd, "version") || streq(cmd, "--version"))
                return version();
        if (streq(cmd, "help") || streq(cmd, "--help") || streq(cmd, "-h"))
                return help();

        fprintf(stderr, "linuxguard: unknown command '%s' (accepts start, version, help)\n", cmd);
        return EXIT_USAGE;
}
