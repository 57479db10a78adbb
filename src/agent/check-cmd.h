#pragma once
/* `linuxguard check`: the eBPF preflight as a table or JSON. */

/* Exit statuses: 0 the sensors can run, 1 a required check failed (the agent would run degraded),
 * 2 usage error. */
int run_check(int argc, char **argv);
