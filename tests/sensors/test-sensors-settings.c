/* sensors_config_from_settings(): settings text in, SensorsConfig and settings record out, the same for
 * both loaders; and the comparison an agent makes with a pinned set's record. */

#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "check-tap.h"
#include "core/cli.h"
#include "core/config-file.h"
#include "sensors/sensors-settings.h"

/* The settings `text` (config-file syntax) over the host defaults, mapped. */
static int map(const char *text, SensorsSettings *ret, char *error, size_t size)
{
        Settings file = {}, defaults = {};
        int r;

        r = config_file_parse_string("agent.conf", text, &file, error, size);
        ck_assert_int_ge(r, 0);
        ck_assert_int_ge(settings_defaults(false, &defaults), 0);
        ck_assert_int_ge(settings_fill_defaults(&file, &defaults), 0);
        r = sensors_config_from_settings(&file, ret, error, size);
        settings_done(&file);
        settings_done(&defaults);
        return r;
}

START_TEST(test_defaults)
{
        SensorsSettings ss;
        char error[512];

        ck_assert_int_eq(map("", &ss, error, sizeof(error)), 0);
        ck_assert(ss.cfg.process && ss.cfg.file && ss.cfg.network && ss.cfg.kernel);
        ck_assert_uint_eq(ss.cfg.ring_size, 4194304);
        ck_assert_uint_eq(ss.cfg.n_file_prefixes, 4);
        ck_assert_str_eq(ss.cfg.file_prefixes[0], "/etc/");
        ck_assert_str_eq(ss.cfg.file_prefixes[3], "/run/secrets/");
        ck_assert_uint_eq(
                ss.cfg.n_pid_allow + ss.cfg.n_pid_deny + ss.cfg.n_cgroup_allow + ss.cfg.n_cgroup_deny, 0);
        ck_assert_int_eq(ss.cfg.exclude_pid, 0);
        ck_assert_ptr_eq(ss.cfg.settings_record, ss.record);
        ck_assert_str_eq(ss.record, "sensors.process = true\n"
                                    "sensors.file = true\n"
                                    "sensors.network = true\n"
                                    "sensors.kernel = true\n"
                                    "sensors.ring_buffer_size = 4194304\n"
                                    "sensors.file_prefixes = [ \"/etc/\", \"/root/.ssh/\", "
                                    "\"/var/run/secrets/\", \"/run/secrets/\" ]\n"
                                    "sensors.pid_allow = []\n"
                                    "sensors.pid_deny = []\n"
                                    "sensors.cgroup_allow = []\n"
                                    "sensors.cgroup_deny = []\n");
        sensors_settings_done(&ss);
}
END_TEST

START_TEST(test_filters)
{
        SensorsSettings ss;
        char error[512];

        ck_assert_int_eq(
                map("sensors = { network = false; ring_buffer_size = 8192; file_prefixes = [ \"/srv/\" ];\n"
                    "pid_allow = [ 7 ]; pid_deny = [ 42, 4242 ]; };\n",
                    &ss, error, sizeof(error)),
                0);
        ck_assert(ss.cfg.process && !ss.cfg.network);
        ck_assert_uint_eq(ss.cfg.ring_size, 8192);
        ck_assert_uint_eq(ss.cfg.n_file_prefixes, 1);
        ck_assert_str_eq(ss.cfg.file_prefixes[0], "/srv/");
        ck_assert_uint_eq(ss.cfg.n_pid_allow, 1);
        ck_assert_uint_eq(ss.cfg.pid_allow[0], 7);
        ck_assert_uint_eq(ss.cfg.n_pid_deny, 2);
        ck_assert_uint_eq(ss.cfg.pid_deny[0], 42);
        ck_assert_uint_eq(ss.cfg.pid_deny[1], 4242);
        ck_assert_ptr_nonnull(strstr(ss.record, "\nsensors.network = false\n"));
        ck_assert_ptr_nonnull(strstr(ss.record, "\nsensors.file_prefixes = [ \"/srv/\" ]\n"));
        ck_assert_ptr_nonnull(
                strstr(ss.record, "\nsensors.pid_allow = [ 7 ]\nsensors.pid_deny = [ 42, 4242 ]\n"));
        sensors_settings_done(&ss);
}
END_TEST

START_TEST(test_cgroups)
{
        const char *root = "/sys/fs/cgroup";
        SensorsSettings ss;
        struct statfs sfs;
        struct stat st;
        char error[512], want[128];

        ck_assert_int_eq(
                map("sensors = { cgroup_deny = [ \"/lg-no-such-cgroup\" ]; };\n", &ss, error, sizeof(error)),
                -ENOENT);
        ck_assert_msg(strncmp(error, "sensors.cgroup_deny: cgroup /lg-no-such-cgroup (", 48) == 0, "%s",
                      error);
        ck_assert_ptr_nonnull(strstr(error, "No such file or directory"));
        sensors_settings_done(&ss);

        if (statfs(root, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
                root = "/sys/fs/cgroup/unified";
        if (statfs(root, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
                return; /* no cgroup2 mount to resolve against */
        ck_assert_int_eq(stat(root, &st), 0);
        ck_assert_int_eq(map("sensors = { cgroup_allow = [ \"/\" ]; };\n", &ss, error, sizeof(error)), 0);
        ck_assert_uint_eq(ss.cfg.n_cgroup_allow, 1);
        ck_assert_uint_eq(ss.cfg.cgroup_allow[0], (uint64_t)st.st_ino);
        snprintf(want, sizeof(want), "\nsensors.cgroup_allow = [ \"/\" ] (cgroup ids %llu)\n",
                 (unsigned long long)st.st_ino);
        ck_assert_ptr_nonnull(strstr(ss.record, want));
        sensors_settings_done(&ss);
}
END_TEST

START_TEST(test_diff)
{
        static const char pinned[] = "sensors.process = true\n"
                                     "sensors.pid_deny = [ 42 ]\n"
                                     "sensors.cgroup_deny = []\n";
        char buf[256], small[24];

        ck_assert_int_eq(sensors_settings_record_diff(pinned, pinned, buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "");
        ck_assert_int_eq(sensors_settings_record_diff(pinned,
                                                      "sensors.process = true\n"
                                                      "sensors.pid_deny = []\n"
                                                      "sensors.file = false\n"
                                                      "sensors.cgroup_deny = []\n",
                                                      buf, sizeof(buf)),
                         2);
        ck_assert_str_eq(buf, "sensors.pid_deny: pinned [ 42 ], here []; "
                              "sensors.file: pinned (not recorded), here false");
        /* Truncated, still terminated and still counted. */
        ck_assert_int_eq(sensors_settings_record_diff(pinned,
                                                      "sensors.pid_deny = []\nsensors.file = false\n", small,
                                                      sizeof(small)),
                         2);
        ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
}
END_TEST

static Suite *sensors_settings_suite(void)
{
        Suite *s = suite_create("sensors-settings");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_defaults);
        tcase_add_test(tc, test_filters);
        tcase_add_test(tc, test_cgroups);
        tcase_add_test(tc, test_diff);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(sensors_settings_suite)
