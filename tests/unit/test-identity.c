/* Workload identity: known SHA-256 vectors, whitespace, missing halves, no fallback in ephemeral mode. */

#include <errno.h>

#include "check-tap.h"
#include "core/workload-identity.h"
#include "util/macro.h"

static const struct {
        IdentityInputs in;
        int ret;
        IdentitySource source;
        const char *id;
} cases[] = {
        /* The explicit id is hashed, never used verbatim, whatever it looks like. */
        {{.workload_id = "abc"},
         0,
         IDENTITY_EXPLICIT,
         "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {{.workload_id = " abc"},
         0,
         IDENTITY_EXPLICIT,
         "d92b1cb3a32147b86a4db0647e4bf6eda6cf160fd3b2da264c5b088c9f9ccbfa"},
        {{.workload_id = "  "},
         0,
         IDENTITY_EXPLICIT,
         "6c179f21e6f62b629055d8ab40f454ed02e48b68563913473b857d3638e23b28"},
        /* Explicit wins over the Downward API pair. */
        {{.workload_id = "abc", .node_name = "node-a", .pod_uid = "x"},
         0,
         IDENTITY_EXPLICIT,
         "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {{.node_name = "node-a", .pod_uid = "0d4b2b5e-1c3f-4b8e-9d6a-7f2e1c0b9a8d"},
         0,
         IDENTITY_DOWNWARD_API,
         "b079a638b070f33203f6653e4e57a49ac51c27a38c794a920f64a713e5984b85"},
        /* An empty explicit id counts as absent. */
        {{.workload_id = "", .node_name = "node-a", .pod_uid = "0d4b2b5e-1c3f-4b8e-9d6a-7f2e1c0b9a8d"},
         0,
         IDENTITY_DOWNWARD_API,
         "b079a638b070f33203f6653e4e57a49ac51c27a38c794a920f64a713e5984b85"},
        /* Missing halves fall through: to an error in ephemeral mode (no machine id given)... */
        {{.node_name = "node-a"}, -ENOENT, 0, NULL},
        {{.pod_uid = "0d4b2b5e"}, -ENOENT, 0, NULL},
        {{.node_name = "", .pod_uid = "0d4b2b5e"}, -ENOENT, 0, NULL},
        {{}, -ENOENT, 0, NULL},
        /* ...and to the machine on hosts. */
        {{.node_name = "node-a", .machine_id = "abc"},
         0,
         IDENTITY_MACHINE,
         "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
};

START_TEST(test_derivation_table)
{
        char id[SHA256_HEX_SIZE] = "";
        IdentitySource src = 0;
        int r = workload_id_derive(&cases[_i].in, id, &src);

        ck_assert_int_eq(r, cases[_i].ret);
        if (r == 0) {
                ck_assert_str_eq(id, cases[_i].id);
                ck_assert_int_eq(src, cases[_i].source);
        }
}
END_TEST

START_TEST(test_missing_message_is_the_spec_text)
{
        ck_assert_str_eq(
                IDENTITY_MISSING_MESSAGE,
                "--ephemeral requires either Downward API env vars (LINUXGUARD_NODE_NAME and "
                "LINUXGUARD_POD_UID, set via valueFrom.fieldRef) OR --workload-id CLI flag; none of "
                "the three were present.");
}
END_TEST

static Suite *identity_suite(void)
{
        Suite *s = suite_create("identity");
        TCase *tc = tcase_create("derive");

        tcase_add_loop_test(tc, test_derivation_table, 0, (int)ELEMENTSOF(cases));
        tcase_add_test(tc, test_missing_message_is_the_spec_text);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(identity_suite)
