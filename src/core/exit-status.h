#pragma once
/* Process exit statuses, documented in README.md and linuxguard(8). Each fatal class has its own. */

enum {
        EXIT_OK = 0,
        EXIT_RUNTIME = 1,   /* unexpected runtime failure (see the log) */
        EXIT_USAGE = 2,     /* bad flag, value, environment variable, config file or missing identity */
        EXIT_SIGINT = 130,  /* stopped by SIGINT, after an orderly shutdown */
        EXIT_SIGTERM = 143, /* stopped by SIGTERM, after an orderly shutdown */
};
