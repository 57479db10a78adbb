#pragma once
/* `linuxguard enroll`: host-mode enrolment as its own step, persisted in the state directory. */

/* Exit statuses: 0 enrolled (or already enrolled), 1 runtime failure, 2 usage or configuration,
 * 3 refused by the backend (EXIT_ENROLL_REFUSED), 4 gave up retrying (EXIT_ENROLL_GAVE_UP). */
int run_enroll(int argc, char **argv);
