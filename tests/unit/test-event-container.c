/* container_id_from_cgroup_path(): the id from each runtime's cgroup naming, nothing from anything else. */

#include "check-tap.h"
#include "sensors/container-id.h"
#include "util/macro.h"

#define ID  "3f2a9c0b7d1e4f5a6b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c"
#define ID2 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

START_TEST(test_container_paths)
{
        static const struct {
                const char *path;
                const char *want; /* NULL: not a container */
        } cases[] = {
                {"/system.slice/docker-" ID ".scope", ID},
                {"/sys/fs/cgroup/system.slice/docker-" ID ".scope", ID},
                {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/"
                 "cri-containerd-" ID ".scope",
                 ID},
                {"/kubepods.slice/kubepods-pod9.slice/crio-" ID ".scope", ID},
                {"/machine.slice/libpod-" ID ".scope", ID},
                {"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope/container",
                 ID},
                {"/docker/" ID, ID},
                {"/kubepods/burstable/pod0b9a/" ID, ID},
                {"/actions_job/" ID, ID},
                /* Nested: the innermost container wins. */
                {"/docker/" ID2 "/docker/" ID, ID},
                /* conmon runs beside the container, it is not in it. */
                {"/machine.slice/libpod-conmon-" ID ".scope", NULL},
                {"/kubepods.slice/crio-conmon-" ID ".scope", NULL},
                /* Near misses. */
                {"/system.slice/docker-" ID "0.scope", NULL},
                {"/system.slice/"
                 "docker-3F2A9C0B7D1E4F5A6B8C9D0E1F2A3B4C5D6E7F8091A2B3C4D5E6F708192A3B4C.scope",
                 NULL},
                {"/system.slice/docker.service", NULL},
                {"/system.slice/docker-" ID ".scopex", NULL},
                {"/user.slice/user-1000.slice/session-3.scope", NULL},
                {"/", NULL},
                {"", NULL},
                {"//docker//" ID "//", ID},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char id[CONTAINER_ID_LEN + 1] = "";
                int r = container_id_from_cgroup_path(cases[i].path, id);

                ck_assert_msg(r == (cases[i].want ? 1 : 0), "case %zu: %s -> %d", i, cases[i].path, r);
                if (cases[i].want)
                        ck_assert_str_eq(id, cases[i].want);
        }
}
END_TEST

START_TEST(test_container_cache_unknown)
{
        ContainerCache *c = NULL;

        ck_assert_int_eq(container_cache_new(&c), 0);
        /* Id 0 and ids that name no cgroup resolve to nothing, repeatedly. */
        ck_assert_ptr_null(container_cache_lookup(c, 0));
        ck_assert_ptr_null(container_cache_lookup(c, UINT64_MAX - 1));
        ck_assert_ptr_null(container_cache_lookup(c, UINT64_MAX - 1));
        ck_assert_ptr_null(container_cache_free(c));
        ck_assert_ptr_null(container_cache_free(NULL));
}
END_TEST

static Suite *container_suite(void)
{
        Suite *s = suite_create("event-container");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_container_paths);
        tcase_add_test(tc, test_container_cache_unknown);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(container_suite)
