/* The PID file: acquire/release, refusal naming the holder, stale takeover, and a race of 20 processes. */

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "check-tap.h"
#include "daemon/pidfile.h"

#define RACERS 20

static char dir[] = "/tmp/test-pidfile-XXXXXX";
static char path[256];

static void setup(void)
{
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/run/linuxguard.pid", dir); /* parent created on demand */
}

static void teardown(void)
{
        char sub[300];

        (void)unlink(path);
        snprintf(sub, sizeof(sub), "%s/run", dir);
        (void)rmdir(sub);
        (void)rmdir(dir);
        strcpy(dir, "/tmp/test-pidfile-XXXXXX");
}

START_TEST(test_acquire_writes_pid_and_release_unlinks)
{
        PidFile *p = NULL;
        pid_t pid = 0;
        struct stat st;

        ck_assert_int_eq(pidfile_acquire(path, &p, NULL), 0);
        ck_assert_int_eq(pidfile_read(path, &pid), 0);
        ck_assert_int_eq(pid, getpid());
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(st.st_mode & 0777, 0644);
        p = pidfile_release(p);
        ck_assert_ptr_null(p);
        ck_assert_int_eq(access(path, F_OK), -1);
        ck_assert_int_eq(errno, ENOENT);
        ck_assert_ptr_null(pidfile_release(NULL));
}
END_TEST

/* A child holds the file; we are refused and told its PID, and take over once it is gone. */
START_TEST(test_second_acquire_names_holder)
{
        _cleanup_(pidfile_releasep) PidFile *p = NULL;
        int ready[2], done[2];
        pid_t child, holder = -1;
        char c;

        ck_assert_int_eq(pipe(ready), 0);
        ck_assert_int_eq(pipe(done), 0);
        child = fork();
        ck_assert_int_ge(child, 0);
        if (child == 0) {
                PidFile *mine = NULL;
                if (pidfile_acquire(path, &mine, NULL) < 0)
                        _exit(1);
                (void)!write(ready[1], "x", 1);
                (void)!read(done[0], &c, 1);
                pidfile_release(mine);
                _exit(0);
        }
        ck_assert_int_eq(read(ready[0], &c, 1), 1);

        ck_assert_int_eq(pidfile_acquire(path, &p, &holder), -EBUSY);
        ck_assert_ptr_null(p);
        ck_assert_int_eq(holder, child);

        ck_assert_int_eq(write(done[1], "x", 1), 1);
        ck_assert_int_eq(waitpid(child, NULL, 0), child);
        ck_assert_int_eq(pidfile_acquire(path, &p, &holder), 0);
        ck_assert_int_eq(holder, 0);
}
END_TEST

/* A file left by a killed agent (lock gone, PID still written) is taken over. */
START_TEST(test_stale_file_taken_over)
{
        _cleanup_(pidfile_releasep) PidFile *p = NULL;
        pid_t child, pid = 0;

        child = fork();
        ck_assert_int_ge(child, 0);
        if (child == 0) {
                PidFile *mine = NULL;
                if (pidfile_acquire(path, &mine, NULL) < 0)
                        _exit(1);
                raise(SIGKILL); /* no release: the file stays */
                _exit(2);
        }
        ck_assert_int_eq(waitpid(child, NULL, 0), child);
        ck_assert_int_eq(pidfile_read(path, &pid), 0);
        ck_assert_int_eq(pid, child);

        ck_assert_int_eq(pidfile_acquire(path, &p, NULL), 0);
        ck_assert_int_eq(pidfile_read(path, &pid), 0);
        ck_assert_int_eq(pid, getpid());
}
END_TEST

START_TEST(test_garbage_file_taken_over)
{
        _cleanup_(pidfile_releasep) PidFile *p = NULL;
        pid_t pid = 0;
        FILE *f;

        ck_assert_int_eq(pidfile_acquire(path, &p, NULL), 0);
        p = pidfile_release(p);
        ck_assert_ptr_nonnull(f = fopen(path, "w"));
        fputs("not a pid, and longer than the pid that replaces it\n", f);
        fclose(f);
        ck_assert_int_eq(pidfile_read(path, &pid), -EBADMSG);
        ck_assert_int_eq(pidfile_acquire(path, &p, NULL), 0);
        ck_assert_int_eq(pidfile_read(path, &pid), 0);
        ck_assert_int_eq(pid, getpid());
}
END_TEST

/* RACERS processes start at once. A winner keeps the lock until every racer has reported, so a late
 * starter cannot win on a file the first winner already gave up. */
START_TEST(test_race_exactly_one_winner)
{
        int go[2], result[2], finish[2];
        pid_t kids[RACERS];
        unsigned winners = 0, refused = 0, errors = 0;
        char c;

        ck_assert_int_eq(pipe(go), 0);
        ck_assert_int_eq(pipe(result), 0);
        ck_assert_int_eq(pipe(finish), 0);
        for (int i = 0; i < RACERS; i++) {
                kids[i] = fork();
                ck_assert_int_ge(kids[i], 0);
                if (kids[i] == 0) {
                        PidFile *mine = NULL;
                        pid_t holder = 0, written = 0;
                        int r;

                        close(go[1]);
                        close(finish[1]);
                        (void)!read(go[0], &c, 1); /* all released at once when the parent closes it */
                        r = pidfile_acquire(path, &mine, &holder);
                        if (r == 0)
                                c = pidfile_read(path, &written) == 0 && written == getpid() ? 'W' : 'X';
                        else
                                /* Whether the loser could name the holder depends on scheduling (the
                                 * winner may not have written its PID within the wait); naming it is
                                 * test_second_acquire_names_holder's concern. */
                                c = r == -EBUSY ? 'B' : 'E';
                        (void)!write(result[1], &c, 1);
                        if (r == 0)
                                (void)!read(finish[0], &c, 1);
                        pidfile_release(mine);
                        _exit(0);
                }
        }
        close(go[0]);
        close(result[1]);
        close(finish[0]);
        close(go[1]);
        for (int i = 0; i < RACERS && read(result[0], &c, 1) == 1; i++) {
                winners += c == 'W' || c == 'X';
                refused += c == 'B';
                errors += c == 'E' || c == 'X';
        }
        close(finish[1]);
        for (int i = 0; i < RACERS; i++)
                ck_assert_int_eq(waitpid(kids[i], NULL, 0), kids[i]);
        close(result[0]);
        ck_assert_uint_eq(winners, 1);
        ck_assert_uint_eq(refused, RACERS - 1);
        ck_assert_uint_eq(errors, 0);
        ck_assert_int_eq(access(path, F_OK), -1); /* the winner's release removed it */
}
END_TEST

/* Acquire/release churn among processes: the lock must never be held by two at once, including
 * across the unlink in release (a racer that opened the old inode must not win on it). Each process must
 * hold it CHURN_WINS times, and may only be refused with -EBUSY, so an acquire that always fails (and
 * so never has two holders) fails the test too. */
#define CHURN_KIDS     8
#define CHURN_WINS     50
#define CHURN_ATTEMPTS 100000

START_TEST(test_churn_never_two_holders)
{
        char marker[300];
        pid_t kids[CHURN_KIDS];

        snprintf(marker, sizeof(marker), "%s/holder", dir);
        for (int i = 0; i < CHURN_KIDS; i++) {
                kids[i] = fork();
                ck_assert_int_ge(kids[i], 0);
                if (kids[i] == 0) {
                        int wins = 0;

                        for (int n = 0; n < CHURN_ATTEMPTS && wins < CHURN_WINS; n++) {
                                PidFile *mine = NULL;
                                int r = pidfile_acquire(path, &mine, NULL);

                                if (r == -EBUSY)
                                        continue;
                                if (r < 0)
                                        _exit(4);
                                /* O_EXCL: fails if another holder's marker exists right now. */
                                int fd = open(marker, O_CREAT | O_EXCL | O_WRONLY, 0600);
                                if (fd < 0)
                                        _exit(3);
                                close(fd);
                                unlink(marker);
                                pidfile_release(mine);
                                wins++;
                        }
                        _exit(wins == CHURN_WINS ? 0 : 5);
                }
        }
        for (int i = 0; i < CHURN_KIDS; i++) {
                int status = -1;
                ck_assert_int_eq(waitpid(kids[i], &status, 0), kids[i]);
                ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                              "racer %d: status %#x (3: two holders, 4: acquire failed, 5: never won %d times)",
                              i, (unsigned)status, CHURN_WINS);
        }
}
END_TEST

static Suite *pidfile_suite(void)
{
        Suite *s = suite_create("pidfile");
        TCase *tc = tcase_create("pidfile");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_acquire_writes_pid_and_release_unlinks);
        tcase_add_test(tc, test_second_acquire_names_holder);
        tcase_add_test(tc, test_stale_file_taken_over);
        tcase_add_test(tc, test_garbage_file_taken_over);
        tcase_add_test(tc, test_race_exactly_one_winner);
        tcase_add_test(tc, test_churn_never_two_holders);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(pidfile_suite)
