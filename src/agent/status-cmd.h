#pragma once
/* `linuxguard status [--json]` and `linuxguard health`: ask the running agent over its control API. */

/* argv[0] is "status" or "health". Returns the exit status. */
int run_status(int argc, char **argv);
