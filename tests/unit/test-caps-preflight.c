/* caps_preflight(): one row per diagnosis, each with its exact message. */

#include "check-tap.h"
#include "core/caps-preflight.h"
#include "util/macro.h"

#define EBPF_CAPS (CAP_MASK(CAP_BPF) | CAP_MASK(CAP_PERFMON) | CAP_MASK(CAP_DAC_READ_SEARCH))
#define ALL_CAPS  ((CAP_MASK(41) - 1))

static const CapNeed ebpf_needs[] = {CAP_NEED_BPF, CAP_NEED_PERFMON, CAP_NEED_DAC_READ_SEARCH};

#define NNP_PARAGRAPH(caps)                                                                                 \
        "no_new_privs is set (Kubernetes allowPrivilegeEscalation: false, docker/podman --security-opt "    \
        "no-new-privileges), and under no_new_privs the kernel ignores file capabilities: execve() grants " \
        "no "                                                                                               \
        "capability beyond the permitted set the process already held, and it held none of these. The "     \
        "binary's file capabilities (" caps                                                                 \
        ") were therefore not applied. Grant the capabilities instead as "                                  \
        "ambient capabilities, which survive execve() under no_new_privs for a non-root user: runc/OCI "    \
        "process.capabilities.ambient, with each capability also in bounding, permitted, inheritable and "  \
        "effective. Kubernetes has no field for ambient capabilities: either run the container as root "    \
        "(runAsUser: 0) with securityContext.capabilities.add, or set allowPrivilegeEscalation: true so "   \
        "the "                                                                                              \
        "file capabilities apply. With docker/podman, drop --security-opt no-new-privileges, or run as "    \
        "root "                                                                                             \
        "(--user 0) with --cap-add.\n"

static const struct {
        const char *name;
        CapsState state;
        const char *want; /* NULL: all present */
} rows[] = {
        {"root with every capability",
         {.effective = ALL_CAPS, .permitted = ALL_CAPS, .bounding = ALL_CAPS, .last_cap = 40},
         NULL},
        {"CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON",
         {.effective = CAP_MASK(CAP_SYS_ADMIN) | CAP_MASK(CAP_DAC_READ_SEARCH), .last_cap = 40},
         NULL},
        {"ambient capabilities as uid 65532 under no_new_privs",
         {.effective = EBPF_CAPS,
          .permitted = EBPF_CAPS,
          .inheritable = EBPF_CAPS,
          .ambient = EBPF_CAPS,
          .bounding = EBPF_CAPS,
          .no_new_privs = true,
          .last_cap = 40,
          .euid = 65532},
         NULL},
        {"not in the bounding set",
         {.effective = CAP_MASK(CAP_DAC_READ_SEARCH) | CAP_MASK(CAP_PERFMON),
          .permitted = CAP_MASK(CAP_DAC_READ_SEARCH) | CAP_MASK(CAP_PERFMON),
          .bounding = CAP_MASK(CAP_DAC_READ_SEARCH) | CAP_MASK(CAP_PERFMON),
          .last_cap = 40},
         "Missing 1 capability that the enabled features need:\n"
         "  CAP_BPF (to load eBPF programs): not in the bounding set, so nothing can grant it; add it to "
         "the "
         "container: docker/podman --cap-add=BPF, Kubernetes securityContext.capabilities.add: [\"BPF\"], "
         "runc process.capabilities.bounding.\n"},
        {"file capabilities ignored under no_new_privs",
         {.bounding = EBPF_CAPS,
          .no_new_privs = true,
          .file_caps = true,
          .file_permitted = EBPF_CAPS,
          .last_cap = 40,
          .euid = 65532},
         "Missing 3 capabilities that the enabled features need:\n"
         "  CAP_BPF (to load eBPF programs): granted by the binary's file capabilities, which the kernel "
         "ignored because no_new_privs is set (see below).\n"
         "  CAP_PERFMON (to attach tracepoints): granted by the binary's file capabilities, which the "
         "kernel "
         "ignored because no_new_privs is set (see below).\n"
         "  CAP_DAC_READ_SEARCH (to read tracepoint ids in tracefs): granted by the binary's file "
         "capabilities, which the kernel ignored because no_new_privs is set (see below).\n" NNP_PARAGRAPH(
                 "CAP_BPF, CAP_PERFMON, CAP_DAC_READ_SEARCH")},
        {"no_new_privs, one capability also missing from the bounding set",
         {.bounding = CAP_MASK(CAP_BPF) | CAP_MASK(CAP_DAC_READ_SEARCH),
          .effective = CAP_MASK(CAP_DAC_READ_SEARCH),
          .permitted = CAP_MASK(CAP_DAC_READ_SEARCH),
          .no_new_privs = true,
          .file_caps = true,
          .file_permitted = EBPF_CAPS,
          .last_cap = 40,
          .euid = 65532},
         "Missing 2 capabilities that the enabled features need:\n"
         "  CAP_BPF (to load eBPF programs): granted by the binary's file capabilities, which the kernel "
         "ignored because no_new_privs is set (see below).\n"
         "  CAP_PERFMON (to attach tracepoints): not in the bounding set, so nothing can grant it; add it "
         "to "
         "the container: docker/podman --cap-add=PERFMON, Kubernetes securityContext.capabilities.add: "
         "[\"PERFMON\"], runc process.capabilities.bounding.\n" NNP_PARAGRAPH("CAP_BPF")},
        {"file capabilities not applied without no_new_privs",
         {.effective = CAP_MASK(CAP_BPF) | CAP_MASK(CAP_PERFMON),
          .permitted = CAP_MASK(CAP_BPF) | CAP_MASK(CAP_PERFMON),
          .bounding = EBPF_CAPS,
          .file_caps = true,
          .file_permitted = EBPF_CAPS,
          .last_cap = 40,
          .euid = 65532},
         "Missing 1 capability that the enabled features need:\n"
         "  CAP_DAC_READ_SEARCH (to read tracepoint ids in tracefs): granted by the binary's file "
         "capabilities, but they were not applied at execve() (is the binary on a filesystem mounted "
         "nosuid, "
         "or was it started under a tracer?).\n"},
        {"permitted but not effective",
         {.effective = CAP_MASK(CAP_BPF) | CAP_MASK(CAP_DAC_READ_SEARCH),
          .permitted = EBPF_CAPS,
          .bounding = EBPF_CAPS,
          .file_caps = true,
          .file_permitted = EBPF_CAPS,
          .last_cap = 40,
          .euid = 65532},
         "Missing 1 capability that the enabled features need:\n"
         "  CAP_PERFMON (to attach tracepoints): permitted but not effective; the binary's file "
         "capabilities "
         "lack the effective flag (setcap CAP_PERFMON+ep).\n"},
        {"non-root without file capabilities",
         {.effective = CAP_MASK(CAP_BPF) | CAP_MASK(CAP_PERFMON),
          .permitted = CAP_MASK(CAP_BPF) | CAP_MASK(CAP_PERFMON),
          .bounding = EBPF_CAPS,
          .last_cap = 40,
          .euid = 1000},
         "Missing 1 capability that the enabled features need:\n"
         "  CAP_DAC_READ_SEARCH (to read tracepoint ids in tracefs): not granted to uid 1000; grant it as "
         "an "
         "ambient capability (runc process.capabilities.ambient), as a file capability (setcap "
         "CAP_DAC_READ_SEARCH+ep on the binary, without no_new_privs), or run as root with "
         "--cap-add=DAC_READ_SEARCH.\n"},
        {"root, in the bounding set only",
         {.effective = CAP_MASK(CAP_PERFMON) | CAP_MASK(CAP_DAC_READ_SEARCH),
          .permitted = CAP_MASK(CAP_PERFMON) | CAP_MASK(CAP_DAC_READ_SEARCH),
          .bounding = EBPF_CAPS,
          .last_cap = 40},
         "Missing 1 capability that the enabled features need:\n"
         "  CAP_BPF (to load eBPF programs): in the bounding set but not granted to root; add it: "
         "docker/podman --cap-add=BPF, Kubernetes securityContext.capabilities.add: [\"BPF\"].\n"},
        {"kernel older than 5.8",
         {.effective = CAP_MASK(CAP_DAC_READ_SEARCH),
          .permitted = CAP_MASK(CAP_DAC_READ_SEARCH),
          .bounding = CAP_MASK(37) - 1,
          .last_cap = 37},
         "Missing 2 capabilities that the enabled features need:\n"
         "  CAP_BPF (to load eBPF programs): this kernel predates it (Linux 5.8 added CAP_BPF and "
         "CAP_PERFMON); grant CAP_SYS_ADMIN instead.\n"
         "  CAP_PERFMON (to attach tracepoints): this kernel predates it (Linux 5.8 added CAP_BPF and "
         "CAP_PERFMON); grant CAP_SYS_ADMIN instead.\n"},
};

START_TEST(test_row)
{
        _cleanup_free_ char *msg = NULL;
        int r;

        r = caps_preflight(&rows[_i].state, ebpf_needs, ELEMENTSOF(ebpf_needs), &msg);
        if (!rows[_i].want) {
                ck_assert_msg(r == 0, "%s: %d %s", rows[_i].name, r, strna(msg));
                ck_assert_ptr_null(msg);
                return;
        }
        ck_assert_int_eq(r, -EPERM);
        ck_assert_ptr_nonnull(msg);
        ck_assert_msg(streq(msg, rows[_i].want), "%s:\n got: %s\nwant: %s", rows[_i].name, msg,
                      rows[_i].want);
}
END_TEST

START_TEST(test_names)
{
        char b[16];

        ck_assert_str_eq(capability_to_name(CAP_BPF, b), "CAP_BPF");
        ck_assert_str_eq(capability_to_name(CAP_PERFMON, b), "CAP_PERFMON");
        ck_assert_str_eq(capability_to_name(CAP_DAC_READ_SEARCH, b), "CAP_DAC_READ_SEARCH");
        ck_assert_str_eq(capability_to_name(CAP_CHECKPOINT_RESTORE, b), "CAP_CHECKPOINT_RESTORE");
        ck_assert_str_eq(capability_to_name(41, b), "CAP_41");
}
END_TEST

static Suite *caps_suite(void)
{
        Suite *s = suite_create("caps-preflight");
        TCase *tc = tcase_create("preflight");

        tcase_add_loop_test(tc, test_row, 0, (int)ELEMENTSOF(rows));
        tcase_add_test(tc, test_names);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(caps_suite)
