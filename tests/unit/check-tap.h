#pragma once
/* Runs one check suite with TAP on stdout, so meson counts every test case. */

#include <check.h>

static inline int run_suite_tap(Suite *s)
{
        SRunner *sr = srunner_create(s);
        int failed;

        srunner_set_tap(sr, "-");
        srunner_run_all(sr, CK_SILENT);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? 0 : 1;
}

#define CHECK_MAIN(suite_fn)                      \
        int main(void)                            \
        {                                         \
                return run_suite_tap(suite_fn()); \
        }
