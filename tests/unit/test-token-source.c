/* token_source_read_file(): the accepted shape (0400/0600 regular file) and every refusal, by exact
 * message, on real files in a temp directory. */

#include <fcntl.h>
#include <sys/stat.h>

#include "check-tap.h"
#include "identity/token-source.h"
#include "util/macro.h"

#define SECRET "TOTP-s3cr3t-0123456789"

static char dir[] = "/tmp/test-token-source.XXXXXX";
static char error[1024];

static void setup(void)
{
        ck_assert_ptr_nonnull(mkdtemp(dir));
        error[0] = 0;
}

static void teardown(void)
{
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ck_assert_int_eq(system(cmd), 0);
        strcpy(dir, "/tmp/test-token-source.XXXXXX");
}

/* Writes `size` bytes to DIR/name with `mode` (exactly, whatever the umask); returns the path. */
static char *make_file(const char *name, const char *content, size_t size, mode_t mode)
{
        static char path[256];
        int fd;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, content, size), (ssize_t)size);
        ck_assert_int_eq(fchmod(fd, mode), 0);
        close(fd);
        return path;
}

static int read_token(const char *path, char **ret)
{
        int r = token_source_read_file(path, ret, error, sizeof(error));
        ck_assert_ptr_null(strstr(error, SECRET));
        return r;
}

START_TEST(test_0400_strips_one_newline)
{
        _cleanup_secret_ char *t = NULL;

        ck_assert_int_eq(read_token(make_file("t", SECRET "\n", strlen(SECRET) + 1, 0400), &t), 0);
        ck_assert_str_eq(t, SECRET);
        t = erase_and_free(t);
        ck_assert_int_eq(read_token(make_file("u", SECRET, strlen(SECRET), 0600), &t), 0);
        ck_assert_str_eq(t, SECRET);
        t = erase_and_free(t);
        ck_assert_int_eq(read_token(make_file("v", "a\n\n", 3, 0400), &t), 0);
        ck_assert_str_eq(t, "a\n");
}
END_TEST

START_TEST(test_group_or_other_access_refused)
{
        static const mode_t modes[] = {0440, 0404, 0644, 0620, 0602, 0666};
        char want[1024];
        char *t = NULL;

        for (size_t i = 0; i < ELEMENTSOF(modes); i++) {
                const char *p = make_file("t", SECRET, strlen(SECRET), modes[i]);

                ck_assert_int_eq(read_token(p, &t), -EPERM);
                ck_assert_ptr_null(t);
                snprintf(want, sizeof(want),
                         "Enrolment token file %s has mode %04o, so group or others may read or write it; "
                         "refusing. Restrict it to its owner: chmod 0400 %s",
                         p, (unsigned)modes[i], p);
                ck_assert_str_eq(error, want);
        }
}
END_TEST

START_TEST(test_symlink_refused)
{
        char link[256], want[1024];
        char *t = NULL;

        make_file("target", SECRET, strlen(SECRET), 0400);
        snprintf(link, sizeof(link), "%s/link", dir);
        ck_assert_int_eq(symlink("target", link), 0);
        ck_assert_int_eq(read_token(link, &t), -ELOOP);
        ck_assert_ptr_null(t);
        snprintf(want, sizeof(want),
                 "Enrolment token file %s is a symbolic link; refusing. Pass the path of the file itself "
                 "(for a Kubernetes secret volume: DIR/..data/KEY).",
                 link);
        ck_assert_str_eq(error, want);
}
END_TEST

START_TEST(test_not_regular_refused)
{
        char fifo[256], want[1024];
        char *t = NULL;

        /* A directory, and a FIFO (which must not block the open). */
        ck_assert_int_eq(read_token(dir, &t), -EBADFD);
        snprintf(want, sizeof(want), "Enrolment token file %s is not a regular file; refusing.", dir);
        ck_assert_str_eq(error, want);

        snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
        ck_assert_int_eq(mkfifo(fifo, 0400), 0);
        ck_assert_int_eq(read_token(fifo, &t), -EBADFD);
        ck_assert_ptr_null(t);
}
END_TEST

START_TEST(test_bad_content_refused)
{
        char big[TOKEN_FILE_MAX + 2], want[1024];
        const char *p;
        char *t = NULL;

        p = make_file("empty", "", 0, 0400);
        ck_assert_int_eq(read_token(p, &t), -ENODATA);
        snprintf(want, sizeof(want), "Enrolment token file %s is empty.", p);
        ck_assert_str_eq(error, want);

        ck_assert_int_eq(read_token(make_file("nl", "\n", 1, 0400), &t), -ENODATA);
        ck_assert_int_eq(read_token(make_file("nul", "ab\0cd", 5, 0400), &t), -EBADMSG);

        memset(big, 'x', sizeof(big));
        p = make_file("big", big, sizeof(big), 0400);
        ck_assert_int_eq(read_token(p, &t), -EFBIG);
        snprintf(want, sizeof(want), "Enrolment token file %s is larger than %d bytes; refusing.", p,
                 TOKEN_FILE_MAX);
        ck_assert_str_eq(error, want);
        ck_assert_ptr_null(t);

        /* Exactly the limit is fine. */
        ck_assert_int_eq(read_token(make_file("max", big, TOKEN_FILE_MAX, 0400), &t), 0);
        ck_assert_uint_eq(strlen(t), TOKEN_FILE_MAX);
        t = erase_and_free(t);
}
END_TEST

START_TEST(test_missing)
{
        char p[256], want[1024];
        char *t = NULL;

        snprintf(p, sizeof(p), "%s/nope", dir);
        ck_assert_int_eq(read_token(p, &t), -ENOENT);
        snprintf(want, sizeof(want), "Failed to open enrolment token file %s: No such file or directory", p);
        ck_assert_str_eq(error, want);
}
END_TEST

static Suite *token_source_suite(void)
{
        Suite *s = suite_create("token-source");
        TCase *tc = tcase_create("file");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_0400_strips_one_newline);
        tcase_add_test(tc, test_group_or_other_access_refused);
        tcase_add_test(tc, test_symlink_refused);
        tcase_add_test(tc, test_not_regular_refused);
        tcase_add_test(tc, test_bad_content_refused);
        tcase_add_test(tc, test_missing);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(token_source_suite)
