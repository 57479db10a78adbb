#pragma once
/* The subcommands main() dispatches to. Each takes argv from its own name on and returns the exit status. */

/* `linuxguard start`: run the agent (host or ephemeral, as the mode resolver says). */
int run_start(int argc, char **argv);

/* `linuxguard enroll`: host-mode enrolment as its own step, persisted in the state directory.
 * Exit statuses: 0 enrolled (or already enrolled), 1 runtime failure, 2 usage or configuration,
 * 3 refused by the backend (EXIT_ENROLL_REFUSED), 4 gave up retrying (EXIT_ENROLL_GAVE_UP). */
int run_enroll(int argc, char **argv);

/* `linuxguard bpf load|unload|status`: the pinned loader, for hosts.
 * Exit statuses: 0 done (load: loaded or already loaded by this build; unload: removed or nothing pinned;
 * status: a set from this build is pinned), 1 failure or a set from another build, 2 usage. */
int run_bpf(int argc, char **argv);

/* `linuxguard check`: the eBPF preflight as a table or JSON.
 * Exit statuses: 0 the sensors can run, 1 a required check failed (the agent would run degraded),
 * 2 usage error. */
int run_check(int argc, char **argv);

/* `linuxguard status [--json]` and `linuxguard health`: ask the running agent over its control API.
 * argv[0] is "status" or "health". */
int run_status(int argc, char **argv);
