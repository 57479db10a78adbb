/* The eBPF preflight: parsing of the files it reads, evaluation of host facts into checks, the degraded
 * reason, and the table and JSON that `linuxguard check` prints. */

#include <json-c/json.h>

#include "check-tap.h"
#include "sensors/preflight.h"
#include "util/macro.h"

#define ALL_CAPS                                                                     \
        (CAP_MASK(CAP_BPF) | CAP_MASK(CAP_PERFMON) | CAP_MASK(CAP_DAC_READ_SEARCH) | \
         CAP_MASK(CAP_SYS_RESOURCE))

/* A host where everything passes. */
static PreflightFacts good_facts(void)
{
        PreflightFacts f = {
                .btf = true,
                .bpf_probe = 0,
                .seccomp_mode = 0,
                .has_caps = true,
                .caps = {.effective = ALL_CAPS, .permitted = ALL_CAPS, .last_cap = 40},
                .tracefs = "/sys/kernel/tracing",
                .bpffs = 0,
                .memlock = 8 * 1024 * 1024,
                .has_lockdown = true,
                .has_perf_event_paranoid = true,
        };
#if defined(__x86_64__)
        strcpy(f.machine, "x86_64");
#elif defined(__aarch64__)
        strcpy(f.machine, "aarch64");
#endif
        strcpy(f.release, "6.18.44-test");
        strcpy(f.lockdown, "[none] integrity confidentiality\n");
        strcpy(f.perf_event_paranoid, "2\n");
        return f;
}

static const PreflightCheck *find_check(const PreflightReport *r, const char *name)
{
        for (size_t i = 0; i < r->n_checks; i++)
                if (streq(r->checks[i].name, name))
                        return &r->checks[i];
        ck_abort_msg("no check %s", name);
        return NULL;
}

START_TEST(test_parse_kernel_release)
{
        unsigned major, minor;

        ck_assert_int_eq(preflight_parse_kernel_release("6.18.44-fc-v669", &major, &minor), 0);
        ck_assert_uint_eq(major, 6);
        ck_assert_uint_eq(minor, 18);
        ck_assert_int_eq(preflight_parse_kernel_release("5.8", &major, &minor), 0);
        ck_assert_uint_eq(major, 5);
        ck_assert_uint_eq(minor, 8);
        ck_assert_int_eq(preflight_parse_kernel_release("4.19.0-27-amd64", &major, &minor), 0);
        ck_assert_uint_eq(minor, 19);
        ck_assert_int_eq(preflight_parse_kernel_release("", &major, &minor), -EINVAL);
        ck_assert_int_eq(preflight_parse_kernel_release("6", &major, &minor), -EINVAL);
        ck_assert_int_eq(preflight_parse_kernel_release("linux", &major, &minor), -EINVAL);
        ck_assert_int_eq(preflight_parse_kernel_release(NULL, &major, &minor), -EINVAL);
}
END_TEST

START_TEST(test_parse_lockdown)
{
        char mode[32];

        ck_assert_int_eq(preflight_parse_lockdown("[none] integrity confidentiality\n", mode, sizeof(mode)),
                         0);
        ck_assert_str_eq(mode, "none");
        ck_assert_int_eq(preflight_parse_lockdown("none integrity [confidentiality]\n", mode, sizeof(mode)),
                         0);
        ck_assert_str_eq(mode, "confidentiality");
        ck_assert_int_eq(preflight_parse_lockdown("none [integrity] confidentiality", mode, sizeof(mode)),
                         0);
        ck_assert_str_eq(mode, "integrity");
        ck_assert_int_eq(preflight_parse_lockdown("none integrity confidentiality\n", mode, sizeof(mode)),
                         -EINVAL);
        ck_assert_int_eq(preflight_parse_lockdown("[] x", mode, sizeof(mode)), -EINVAL);
        ck_assert_int_eq(preflight_parse_lockdown("[unterminated", mode, sizeof(mode)), -EINVAL);
        ck_assert_int_eq(preflight_parse_lockdown("[confidentiality]", mode, 8), -EINVAL); /* too long */
}
END_TEST

START_TEST(test_parse_perf_event_paranoid)
{
        int v;

        ck_assert_int_eq(preflight_parse_perf_event_paranoid("2\n", &v), 0);
        ck_assert_int_eq(v, 2);
        ck_assert_int_eq(preflight_parse_perf_event_paranoid("-1\n", &v), 0);
        ck_assert_int_eq(v, -1);
        ck_assert_int_eq(preflight_parse_perf_event_paranoid("4", &v), 0);
        ck_assert_int_eq(v, 4);
        ck_assert_int_eq(preflight_parse_perf_event_paranoid("", &v), -EINVAL);
        ck_assert_int_eq(preflight_parse_perf_event_paranoid("two\n", &v), -EINVAL);
        ck_assert_int_eq(preflight_parse_perf_event_paranoid("2 3\n", &v), -EINVAL);
        ck_assert_int_eq(preflight_parse_perf_event_paranoid("99999999999999999999", &v), -EINVAL);
}
END_TEST

START_TEST(test_parse_seccomp_mode)
{
        int v = -1;

        ck_assert_int_eq(preflight_parse_seccomp_mode(
                                 "Name:\tx\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t1\n", &v),
                         0);
        ck_assert_int_eq(v, 2);
        ck_assert_int_eq(preflight_parse_seccomp_mode("Seccomp:\t0\n", &v), 0);
        ck_assert_int_eq(v, 0);
        ck_assert_int_eq(preflight_parse_seccomp_mode("Name:\tx\n", &v), -ENOENT);
}
END_TEST

START_TEST(test_arch)
{
        ck_assert(!preflight_arch_supported("sparc64"));
        ck_assert(!preflight_arch_supported(""));
        ck_assert(!preflight_arch_supported(NULL));
#if defined(__x86_64__)
        ck_assert(preflight_arch_supported("x86_64"));
        ck_assert(!preflight_arch_supported("i686")); /* a linux32 personality: no programs for it */
        ck_assert(!preflight_arch_supported("aarch64"));
#endif
}
END_TEST

START_TEST(test_evaluate_good_host)
{
        PreflightFacts f = good_facts();
        PreflightReport r;
        char reason[256] = "x";

        preflight_evaluate(&f, &r);
        ck_assert_uint_ge(r.n_checks, 13);
        ck_assert(preflight_sensors_can_run(&r));
        ck_assert_uint_eq(preflight_degraded_reason(&r, reason, sizeof(reason)), 0);
        ck_assert_str_eq(reason, "");
        for (size_t i = 0; i < r.n_checks; i++) {
                ck_assert_msg(r.checks[i].result != PREFLIGHT_FAIL, "%s failed", r.checks[i].name);
                ck_assert_str_eq(r.checks[i].fix, "");
        }
        /* 5.11+: memlock is not consulted. */
        ck_assert_int_eq(find_check(&r, "memlock")->result, PREFLIGHT_INFO);
        ck_assert_int_eq(find_check(&r, "lockdown")->result, PREFLIGHT_PASS);
}
END_TEST

START_TEST(test_evaluate_seccomp_denies_bpf)
{
        PreflightFacts f = good_facts();
        PreflightReport r;
        const PreflightCheck *c;
        char reason[512];

        f.bpf_probe = -EPERM;
        f.seccomp_mode = 2;
        preflight_evaluate(&f, &r);
        ck_assert(!preflight_sensors_can_run(&r));
        c = find_check(&r, "bpf_syscall");
        ck_assert_int_eq(c->result, PREFLIGHT_FAIL);
        ck_assert_ptr_nonnull(strstr(c->detail, "seccomp"));
        ck_assert_ptr_nonnull(strstr(c->fix, "seccomp"));
        ck_assert_uint_eq(preflight_degraded_reason(&r, reason, sizeof(reason)), 1);
        ck_assert_ptr_eq(strstr(reason, "bpf_syscall: bpf() denied (EPERM)"), reason);
        ck_assert_ptr_nonnull(strstr(reason, "; fix: allow bpf(2) in the seccomp profile"));

        /* Without the capability, the fix is the capability. */
        f.seccomp_mode = 0;
        f.caps.effective = 0;
        preflight_evaluate(&f, &r);
        c = find_check(&r, "bpf_syscall");
        ck_assert_ptr_nonnull(strstr(c->detail, "CAP_BPF is missing"));
        ck_assert_int_eq(find_check(&r, "cap_bpf")->result, PREFLIGHT_FAIL);
        ck_assert_ptr_nonnull(strstr(find_check(&r, "cap_bpf")->fix, "CAP_BPF"));
        ck_assert_int_eq(find_check(&r, "cap_perfmon")->result, PREFLIGHT_FAIL);
        ck_assert_int_eq(find_check(&r, "perf_event_paranoid")->result, PREFLIGHT_FAIL);
        ck_assert_ptr_nonnull(strstr(find_check(&r, "perf_event_paranoid")->fix, "perf_event_paranoid=-1"));
        ck_assert_uint_gt(preflight_degraded_reason(&r, reason, sizeof(reason)), 1);
        ck_assert_ptr_nonnull(strstr(reason, "more failed checks, see 'linuxguard check'"));
}
END_TEST

START_TEST(test_evaluate_alternatives)
{
        PreflightFacts f = good_facts();
        PreflightReport r;

        /* CAP_SYS_ADMIN covers CAP_BPF and CAP_PERFMON, as the kernel's bpf_capable() does. */
        f.caps.effective = CAP_MASK(CAP_SYS_ADMIN) | CAP_MASK(CAP_DAC_OVERRIDE);
        preflight_evaluate(&f, &r);
        ck_assert(preflight_sensors_can_run(&r));
        ck_assert_ptr_nonnull(strstr(find_check(&r, "cap_bpf")->detail, "CAP_SYS_ADMIN"));
        ck_assert_ptr_nonnull(strstr(find_check(&r, "cap_dac_read_search")->detail, "CAP_DAC_OVERRIDE"));
        ck_assert_int_eq(find_check(&r, "cap_sys_resource")->result, PREFLIGHT_INFO);

        /* perf_event_paranoid -1 lets tracepoints attach without CAP_PERFMON. */
        f.caps.effective = CAP_MASK(CAP_BPF) | CAP_MASK(CAP_DAC_READ_SEARCH);
        strcpy(f.perf_event_paranoid, "-1\n");
        preflight_evaluate(&f, &r);
        ck_assert_int_eq(find_check(&r, "perf_event_paranoid")->result, PREFLIGHT_PASS);
}
END_TEST

START_TEST(test_evaluate_host_failures)
{
        PreflightFacts f = good_facts();
        PreflightReport r;
        char reason[512];

        f.btf = false;
        f.tracefs = NULL;
        strcpy(f.lockdown, "none integrity [confidentiality]\n");
        f.bpffs = -ENOENT;
        preflight_evaluate(&f, &r);
        ck_assert_int_eq(find_check(&r, "btf")->result, PREFLIGHT_FAIL);
        ck_assert_ptr_nonnull(strstr(find_check(&r, "btf")->fix, "CONFIG_DEBUG_INFO_BTF"));
        ck_assert_int_eq(find_check(&r, "tracefs")->result, PREFLIGHT_FAIL);
        ck_assert_str_eq(find_check(&r, "tracefs")->fix, "mount -t tracefs tracefs /sys/kernel/tracing");
        ck_assert_int_eq(find_check(&r, "lockdown")->result, PREFLIGHT_FAIL);
        ck_assert_ptr_nonnull(strstr(find_check(&r, "lockdown")->detail, "confidentiality"));
        f.tracefs = "/sys/kernel/tracing";
        f.tracefs_error = -EACCES;
        preflight_evaluate(&f, &r);
        ck_assert_int_eq(find_check(&r, "tracefs")->result, PREFLIGHT_FAIL);
        ck_assert_ptr_nonnull(strstr(find_check(&r, "tracefs")->detail, "cannot be read (EACCES)"));
        f.tracefs = NULL;
        preflight_evaluate(&f, &r);
        /* bpffs only matters to the pinned loader. */
        ck_assert_int_eq(find_check(&r, "bpffs")->result, PREFLIGHT_FAIL);
        ck_assert(!find_check(&r, "bpffs")->required);
        /* The most fundamental failure comes first. */
        ck_assert_uint_eq(preflight_degraded_reason(&r, reason, sizeof(reason)), 3);
        ck_assert_ptr_eq(strstr(reason, "btf: "), reason);

        /* An old kernel: ring buffer missing, memlock counts. */
        f = good_facts();
        strcpy(f.release, "5.4.0-150-generic");
        f.caps.effective &= ~CAP_MASK(CAP_SYS_RESOURCE);
        preflight_evaluate(&f, &r);
        ck_assert_int_eq(find_check(&r, "kernel_version")->result, PREFLIGHT_FAIL);
        ck_assert_int_eq(find_check(&r, "memlock")->result, PREFLIGHT_FAIL);
        ck_assert_ptr_nonnull(strstr(find_check(&r, "memlock")->fix, "LimitMEMLOCK=infinity"));
        ck_assert_ptr_nonnull(strstr(find_check(&r, "cap_sys_resource")->fix, "CAP_SYS_RESOURCE"));

        /* DegradedNoEBPFArch. */
        f = good_facts();
        strcpy(f.machine, "sparc64");
        preflight_evaluate(&f, &r);
        ck_assert_uint_ge(preflight_degraded_reason(&r, reason, sizeof(reason)), 1);
        ck_assert_ptr_eq(
                strstr(reason, "architecture: DegradedNoEBPFArch: no BPF programs or BTF for sparc64"),
                reason);
}
END_TEST

/* A host-mode agent with CAP_SYS_ADMIN mounts a missing tracefs itself: not a failure. Without the
 * capability, or where the profile does not let it (a container), the fix is named as before. */
START_TEST(test_evaluate_tracefs_automount)
{
        PreflightFacts f = good_facts();
        PreflightReport r;

        f.tracefs = NULL;
        f.tracefs_error = -ENOENT;
        f.tracefs_automount = true;
        f.caps.effective |= CAP_MASK(CAP_SYS_ADMIN);
        preflight_evaluate(&f, &r);
        ck_assert_int_eq(find_check(&r, "tracefs")->result, PREFLIGHT_PASS);
        ck_assert_str_eq(find_check(&r, "tracefs")->detail,
                         "not mounted; 'linuxguard start' mounts it on /sys/kernel/tracing (host mode, "
                         "CAP_SYS_ADMIN)");
        ck_assert(preflight_sensors_can_run(&r));

        f.caps.effective &= ~CAP_MASK(CAP_SYS_ADMIN);
        preflight_evaluate(&f, &r);
        ck_assert_int_eq(find_check(&r, "tracefs")->result, PREFLIGHT_FAIL);
        ck_assert_ptr_nonnull(strstr(find_check(&r, "tracefs")->detail, "CAP_SYS_ADMIN is missing"));
        ck_assert_str_eq(find_check(&r, "tracefs")->fix, "mount -t tracefs tracefs /sys/kernel/tracing");

        f.caps.effective |= CAP_MASK(CAP_SYS_ADMIN);
        f.tracefs_automount = false;
        preflight_evaluate(&f, &r);
        ck_assert_int_eq(find_check(&r, "tracefs")->result, PREFLIGHT_FAIL);
        ck_assert_str_eq(find_check(&r, "tracefs")->fix, "mount -t tracefs tracefs /sys/kernel/tracing");
        ck_assert(!preflight_sensors_can_run(&r));
}
END_TEST

START_TEST(test_degraded_reason_truncates)
{
        PreflightFacts f = good_facts();
        PreflightReport r;
        char reason[16];

        f.btf = false;
        preflight_evaluate(&f, &r);
        ck_assert_uint_eq(preflight_degraded_reason(&r, reason, sizeof(reason)), 1);
        ck_assert_str_eq(reason, "btf: /sys/kerne");
}
END_TEST

START_TEST(test_format_table)
{
        PreflightReport r = {
                .n_checks = 3,
                .checks =
                        {
                                {.name = "btf",
                                 .result = PREFLIGHT_PASS,
                                 .required = true,
                                 .detail = "/sys/kernel/btf/vmlinux"},
                                {.name = "bpf_syscall",
                                 .result = PREFLIGHT_FAIL,
                                 .required = true,
                                 .detail = "bpf() denied (EPERM)",
                                 .fix = "allow bpf(2)"},
                                {.name = "bpffs",
                                 .result = PREFLIGHT_FAIL,
                                 .detail = "not a bpffs",
                                 .fix = "mount it"},
                        },
        };
        char *text = NULL;

        ck_assert_int_eq(preflight_format_table(&r, &text), 0);
        ck_assert_str_eq(text,
                         "CHECK        RESULT  DETAIL / FIX\n"
                         "btf          pass    /sys/kernel/btf/vmlinux\n"
                         "bpf_syscall  fail    bpf() denied (EPERM)\n"
                         "                     fix: allow bpf(2)\n"
                         "bpffs        fail    not a bpffs (optional)\n"
                         "                     fix: mount it\n"
                         "\n"
                         "The eBPF sensors cannot run (1 required check failed): the agent would run "
                         "degraded, reporting exec, exit and uid changes from the process connector.\n");
        free(text);

        r.checks[1].result = PREFLIGHT_INFO;
        r.checks[1].fix[0] = 0;
        ck_assert_int_eq(preflight_format_table(&r, &text), 0);
        ck_assert_ptr_nonnull(strstr(text, "bpf_syscall  info    bpf() denied (EPERM)\nbpffs"));
        ck_assert_ptr_nonnull(strstr(text, "\nThe eBPF sensors can run.\n"));
        free(text);
}
END_TEST

START_TEST(test_format_json)
{
        PreflightFacts f = good_facts();
        PreflightReport r;
        json_object *o, *checks, *c, *v;
        char *text = NULL;

        f.bpf_probe = -EPERM;
        f.seccomp_mode = 2;
        preflight_evaluate(&f, &r);
        ck_assert_int_eq(preflight_format_json(&r, &text), 0);
        ck_assert_ptr_null(strchr(text, '\n'));
        o = json_tokener_parse(text);
        ck_assert_ptr_nonnull(o);
        ck_assert(json_object_object_get_ex(o, "sensors_can_run", &v));
        ck_assert(!json_object_get_boolean(v));
        ck_assert(json_object_object_get_ex(o, "checks", &checks));
        ck_assert_uint_eq(json_object_array_length(checks), r.n_checks);
        for (size_t i = 0; i < r.n_checks; i++) {
                c = json_object_array_get_idx(checks, i);
                ck_assert(json_object_object_get_ex(c, "check", &v));
                ck_assert_str_eq(json_object_get_string(v), r.checks[i].name);
                ck_assert(json_object_object_get_ex(c, "result", &v));
                ck_assert_str_eq(json_object_get_string(v), preflight_result_to_string(r.checks[i].result));
                ck_assert(json_object_object_get_ex(c, "required", &v));
                ck_assert(json_object_object_get_ex(c, "detail", &v));
                ck_assert_int_eq(json_object_object_get_ex(c, "fix", &v), r.checks[i].fix[0] != 0);
        }
        json_object_put(o);
        free(text);
}
END_TEST

static Suite *preflight_suite(void)
{
        Suite *s = suite_create("preflight");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_parse_kernel_release);
        tcase_add_test(tc, test_parse_lockdown);
        tcase_add_test(tc, test_parse_perf_event_paranoid);
        tcase_add_test(tc, test_parse_seccomp_mode);
        tcase_add_test(tc, test_arch);
        tcase_add_test(tc, test_evaluate_good_host);
        tcase_add_test(tc, test_evaluate_seccomp_denies_bpf);
        tcase_add_test(tc, test_evaluate_alternatives);
        tcase_add_test(tc, test_evaluate_host_failures);
        tcase_add_test(tc, test_evaluate_tracefs_automount);
        tcase_add_test(tc, test_degraded_reason_truncates);
        tcase_add_test(tc, test_format_table);
        tcase_add_test(tc, test_format_json);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(preflight_suite)
