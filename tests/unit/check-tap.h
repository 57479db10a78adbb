#pragma once
/* Runs one check suite with TAP on stdout, so meson counts every test case; a case can skip itself.
 *
 * Check has no skip: a case that cannot run here fails with a message that starts with TAP_SKIP_MARK, and
 * run_suite_tap() prints that case as "ok N - NAME # SKIP REASON" (tools/test names every skip). In CI
 * (CI=true), which provides root and private mount namespaces, the same call fails the case instead. */

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TAP_SKIP_MARK    "@tap-skip@ "
#define TAP_CI_MUST_HAVE " (CI must provide this: a failure in CI, not a skip)"

static inline bool tap_in_ci(void)
{
        const char *ci = getenv("CI");

        return ci && strcmp(ci, "true") == 0;
}

/* Ends the running case as skipped with `reason` (a string), or as failed in CI. */
#define tap_skip_unless_ci(reason)                                                                  \
        ck_abort_msg("%s%s%s", tap_in_ci() ? "" : TAP_SKIP_MARK, (reason),                          \
                     tap_in_ci() ? TAP_CI_MUST_HAVE : "")

/* For main(): skips the whole suite (a TAP skip plan, exit 0), or fails it in CI. */
static inline int tap_skip_all_unless_ci(const char *reason)
{
        if (tap_in_ci()) {
                printf("not ok 1 - %s" TAP_CI_MUST_HAVE "\n1..1\n", reason);
                return 1;
        }
        printf("1..0 # SKIP %s\n", reason);
        return 0;
}

/* Copies check's TAP from `f` to stdout, turning the marked failures into skips; returns how many. */
static inline int tap_copy_marking_skips(FILE *f)
{
        char line[4096];
        int skipped = 0;

        while (fgets(line, sizeof(line), f)) {
                char *mark = strstr(line, ": " TAP_SKIP_MARK);

                if (strncmp(line, "not ok ", 7) == 0 && mark) {
                        *mark = '\0';
                        printf("ok %s # SKIP %s", line + 7, mark + 2 + strlen(TAP_SKIP_MARK));
                        skipped++;
                } else
                        fputs(line, stdout);
        }
        fflush(stdout);
        return skipped;
}

static inline int run_suite_tap(Suite *s)
{
        char path[] = "/tmp/check-tap-XXXXXX";
        SRunner *sr = srunner_create(s);
        int fd = mkstemp(path), failed, skipped = 0;
        FILE *f;

        if (fd < 0) {
                perror("mkstemp");
                return 1;
        }
        close(fd);
        srunner_set_tap(sr, path);
        srunner_run_all(sr, CK_SILENT);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        f = fopen(path, "re");
        if (!f) {
                perror(path);
                return 1;
        }
        skipped = tap_copy_marking_skips(f);
        fclose(f);
        unlink(path);
        return failed - skipped == 0 ? 0 : 1;
}

#define CHECK_MAIN(suite_fn)                      \
        int main(void)                            \
        {                                         \
                return run_suite_tap(suite_fn()); \
        }
