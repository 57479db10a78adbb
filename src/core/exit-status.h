#pragma once
/* Process exit statuses, documented in linuxguard(8) and docs/operations.md. Each fatal class has its own. */

enum {
        EXIT_OK = 0,
        EXIT_RUNTIME = 1,        /* unexpected runtime failure (see the log) */
        EXIT_USAGE = 2,          /* bad flag, value, environment variable, config file or missing identity */
        EXIT_ENROLL_REFUSED = 3, /* the backend refused the enrolment (its text is printed verbatim) */
        EXIT_ENROLL_GAVE_UP = 4, /* enrolment retries used up their time */
        EXIT_TLS_CACHE = 5,      /* --tls-cache refused: no token/tag, not a memory fs, unsafe files */
        EXIT_CAPABILITY = 6,     /* a capability the enabled features need is missing */
        EXIT_ALREADY_RUNNING = 7, /* another agent holds the PID file */
        EXIT_SIGINT = 130,        /* stopped by SIGINT, after an orderly shutdown */
        EXIT_SIGTERM = 143,       /* stopped by SIGTERM, after an orderly shutdown */
};
