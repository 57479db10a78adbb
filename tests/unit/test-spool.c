/* The on-disk spool in a temporary directory: order across segments and restarts, the cursor, flipped
 * bytes and torn tails skipped and counted, the size cap, and a writer killed with SIGKILL a hundred
 * times: every record it reported durable is read back, in order, and reopening never fails. */

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "check-tap.h"
#include "ship/spool.h"

static char dir[] = "/tmp/test-spool-XXXXXX";
static char spool_dir[sizeof(dir) + 16];

static void setup(void)
{
        ck_assert_ptr_nonnull(mkdtemp(strcpy(dir, "/tmp/test-spool-XXXXXX")));
        snprintf(spool_dir, sizeof(spool_dir), "%s/spool", dir);
}

static void teardown(void)
{
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ck_assert_int_eq(system(cmd), 0);
}

static Spool *open_spool(uint64_t max_bytes, uint64_t segment_bytes)
{
        SpoolConfig cfg = {.max_bytes = max_bytes, .segment_bytes = segment_bytes};
        Spool *s = NULL;

        ck_assert_int_eq(spool_open(&s, spool_dir, &cfg), 0);
        return s;
}

static size_t payload(uint64_t seq, char *buf, size_t size)
{
        return (size_t)snprintf(buf, size, "{\"metadata\":{\"sequence\":%llu},\"pad\":\"%0*d\"}\n",
                                (unsigned long long)seq, (int)(seq % 50), 0);
}

static void append_range(Spool *s, uint64_t from, uint64_t to)
{
        char buf[256];

        for (uint64_t i = from; i <= to; i++)
                ck_assert_int_eq(spool_append(s, i, buf, payload(i, buf, sizeof(buf))), 0);
        ck_assert_int_eq(spool_sync(s), 0);
}

/* Reads (and acknowledges) everything; returns the sequence numbers in *seqs. */
static size_t read_all(Spool *s, uint64_t *seqs, size_t max)
{
        size_t n = 0;
        int r;

        for (;;) {
                EventBatch b = {};
                char want[256];

                r = spool_read(s, 7, SIZE_MAX, &b);
                ck_assert_int_ge(r, 0);
                if (r == 0) {
                        event_batch_done(&b);
                        break;
                }
                for (size_t i = 0; i < b.n; i++) {
                        size_t len = payload(b.records[i]->seq, want, sizeof(want));
                        ck_assert_uint_eq(b.records[i]->size, len);
                        ck_assert_mem_eq(b.records[i]->data, want, len);
                        ck_assert_uint_lt(n, max);
                        seqs[n++] = b.records[i]->seq;
                }
                event_batch_done(&b);
                ck_assert_int_eq(spool_ack(s), 0);
        }
        ck_assert(spool_is_empty(s));
        return n;
}

static unsigned count_segments(void)
{
        DIR *d = opendir(spool_dir);
        struct dirent *de;
        unsigned n = 0;

        ck_assert_ptr_nonnull(d);
        while ((de = readdir(d)))
                n += strstr(de->d_name, ".seg") != NULL;
        closedir(d);
        return n;
}

static void segment_path(unsigned nth, char *buf, size_t size)
{
        /* Segments are numbered from 1 in a fresh spool. */
        snprintf(buf, size, "%s/%016x.seg", spool_dir, nth);
}

START_TEST(test_order_cursor_restart)
{
        Spool *s = open_spool(1 << 20, 1000);
        EventBatch b = {};
        uint64_t seqs[200];
        SpoolStats st;

        ck_assert(spool_is_empty(s));
        ck_assert_int_eq(spool_read(s, 10, SIZE_MAX, &b), 0);
        append_range(s, 1, 100);
        ck_assert(!spool_is_empty(s));
        ck_assert_uint_gt(count_segments(), 3); /* 1000-byte segments */

        ck_assert_int_eq(spool_read(s, 30, SIZE_MAX, &b), 30);
        ck_assert_uint_eq(b.records[0]->seq, 1);
        ck_assert_uint_eq(b.records[29]->seq, 30);
        event_batch_done(&b);
        ck_assert_int_eq(spool_ack(s), 0);

        /* Read but not acknowledged: delivered again after a restart. */
        ck_assert_int_eq(spool_read(s, 5, SIZE_MAX, &b), 5);
        event_batch_done(&b);
        s = spool_free(s);

        s = open_spool(1 << 20, 1000);
        append_range(s, 101, 150); /* a new segment, after the old ones */
        ck_assert_uint_eq(read_all(s, seqs, ELEMENTSOF(seqs)), 120);
        for (size_t i = 0; i < 120; i++)
                ck_assert_uint_eq(seqs[i], 31 + i);
        spool_get_stats(s, &st);
        ck_assert_uint_eq(st.corrupt_records, 0);
        ck_assert_uint_eq(st.pending_bytes, 0);
        ck_assert_uint_le(count_segments(), 1); /* read segments are deleted */
        s = spool_free(s);

        /* Acknowledged stays acknowledged. */
        s = open_spool(1 << 20, 1000);
        ck_assert(spool_is_empty(s));
        spool_free(s);
}
END_TEST

START_TEST(test_max_bytes_bounds_a_read)
{
        Spool *s = open_spool(1 << 20, 1 << 20);
        EventBatch b = {};

        append_range(s, 1, 10);
        ck_assert_int_eq(spool_read(s, 100, 1, &b), 1); /* at least one */
        event_batch_done(&b);
        /* Not acknowledged: read again. Records 1-3 are 39, 40 and 41 bytes. */
        ck_assert_int_eq(spool_read(s, 100, 130, &b), 3);
        ck_assert_uint_eq(b.records[0]->seq, 1);
        ck_assert_uint_le(b.bytes, 130);
        event_batch_done(&b);
        spool_free(s);
}
END_TEST

static void flip_byte(const char *path, off_t offset)
{
        int fd = open(path, O_RDWR);
        unsigned char c;

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(pread(fd, &c, 1, offset), 1);
        c ^= 0x5a;
        ck_assert_int_eq(pwrite(fd, &c, 1, offset), 1);
        close(fd);
}

START_TEST(test_flipped_bytes_skipped_and_counted)
{
        Spool *s = open_spool(1 << 20, 1 << 20);
        char path[256], buf[256];
        uint64_t seqs[100];
        off_t rec5 = 0;
        SpoolStats st;
        size_t n;

        append_range(s, 1, 20);
        s = spool_free(s);
        /* Records 1..4 precede record 5; each is a 24-byte header and its payload. */
        for (uint64_t i = 1; i < 5; i++)
                rec5 += 24 + (off_t)payload(i, buf, sizeof(buf));
        segment_path(1, path, sizeof(path));
        flip_byte(path, rec5 + 30);                                           /* payload of 5 */
        flip_byte(path, rec5 + 24 + (off_t)payload(5, buf, sizeof(buf)) + 1); /* magic of 6 */
        flip_byte(path, rec5 + 2 * 24 + (off_t)payload(5, buf, sizeof(buf)) +
                                (off_t)payload(6, buf, sizeof(buf)) + 4); /* length of 7 */

        s = open_spool(1 << 20, 1 << 20);
        n = read_all(s, seqs, ELEMENTSOF(seqs));
        ck_assert_uint_eq(n, 17);
        for (size_t i = 0; i < n; i++)
                ck_assert_uint_eq(seqs[i], i < 4 ? i + 1 : i + 4);
        spool_get_stats(s, &st);
        ck_assert_uint_eq(st.corrupt_records, 1); /* one damaged run */
        spool_free(s);
}
END_TEST

START_TEST(test_torn_tail)
{
        Spool *s = open_spool(1 << 20, 1 << 20);
        char path[256];
        uint64_t seqs[100];
        struct stat st;
        SpoolStats ss;
        size_t n;

        append_range(s, 1, 10);
        s = spool_free(s);
        segment_path(1, path, sizeof(path));
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(truncate(path, st.st_size - 7), 0); /* mid-record */

        s = open_spool(1 << 20, 1 << 20);
        append_range(s, 11, 12);
        n = read_all(s, seqs, ELEMENTSOF(seqs));
        ck_assert_uint_eq(n, 11);
        for (size_t i = 0; i < n; i++)
                ck_assert_uint_eq(seqs[i], i < 9 ? i + 1 : i + 2);
        spool_get_stats(s, &ss);
        ck_assert_uint_eq(ss.corrupt_records, 1);
        s = spool_free(s);

        /* A tail cut inside the header. */
        s = open_spool(1 << 20, 1 << 20);
        append_range(s, 13, 14);
        s = spool_free(s);
        segment_path(3, path, sizeof(path));
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(truncate(path, st.st_size - (st.st_size / 2 - 10)), 0);
        s = open_spool(1 << 20, 1 << 20);
        n = read_all(s, seqs, ELEMENTSOF(seqs));
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_eq(seqs[0], 13);
        spool_free(s);
}
END_TEST

START_TEST(test_garbage_segment)
{
        Spool *s;
        char path[256];
        uint64_t seqs[100];
        unsigned char junk[8192];
        SpoolStats st;
        int fd;

        for (size_t i = 0; i < sizeof(junk); i++)
                junk[i] = (unsigned char)(i * 131 + 7);
        memcpy(junk + 100, "LGS1", 4); /* a magic with nonsense after it */
        ck_assert_int_eq(mkdir(spool_dir, 0700), 0);
        segment_path(1, path, sizeof(path));
        fd = open(path, O_WRONLY | O_CREAT, 0600);
        ck_assert_int_eq(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
        close(fd);

        s = open_spool(1 << 20, 1 << 20);
        append_range(s, 1, 3);
        ck_assert_uint_eq(read_all(s, seqs, ELEMENTSOF(seqs)), 3);
        spool_get_stats(s, &st);
        ck_assert_uint_eq(st.corrupt_records, 1);
        spool_free(s);
}
END_TEST

START_TEST(test_cap_drops_oldest_segment)
{
        Spool *s = open_spool(4000, 1000);
        uint64_t seqs[1000];
        SpoolStats st;
        size_t n;

        append_range(s, 1, 200);
        spool_get_stats(s, &st);
        ck_assert_uint_le(st.bytes, 4000);
        ck_assert_uint_gt(st.dropped_cap, 0);
        n = read_all(s, seqs, ELEMENTSOF(seqs));
        /* What is left is the newest records, contiguous, and the counts add up. */
        ck_assert_uint_eq(seqs[n - 1], 200);
        for (size_t i = 1; i < n; i++)
                ck_assert_uint_eq(seqs[i], seqs[i - 1] + 1);
        ck_assert_uint_eq(n + st.dropped_cap, 200);

        ck_assert_int_eq(spool_append(s, 201, "x", 5000), -E2BIG);
        spool_free(s);
}
END_TEST

/* The writer: appends records of varied size, syncs every few, and after each sync reports the last
 * durable sequence number on the pipe. */
static _noreturn_ void writer(int fd, uint64_t first)
{
        static char buf[40000];
        SpoolConfig cfg = {.max_bytes = 1ULL << 30, .segment_bytes = 256 * 1024};
        Spool *s = NULL;

        if (spool_open(&s, spool_dir, &cfg) < 0)
                _exit(2);
        memset(buf, 'a', sizeof(buf));
        for (uint64_t seq = first;; seq++) {
                size_t len = 16 + (seq * 7919) % (sizeof(buf) - 16);

                snprintf(buf, 16, "%015llu", (unsigned long long)seq);
                if (spool_append(s, seq, buf, len) < 0)
                        _exit(3);
                if (seq % 5 == 0) {
                        if (spool_sync(s) < 0 || write(fd, &seq, sizeof(seq)) != sizeof(seq))
                                _exit(4);
                }
        }
}

START_TEST(test_kill9_during_writes)
{
        uint64_t next = 1, torn = 0;

        for (int iter = 0; iter < 100; iter++) {
                uint64_t durable = next - 1, v, last = next - 1;
                int pfd[2], status;
                Spool *s;
                SpoolStats st;
                pid_t pid;

                ck_assert_int_eq(pipe(pfd), 0);
                pid = fork();
                ck_assert_int_ge(pid, 0);
                if (pid == 0) {
                        close(pfd[0]);
                        writer(pfd[1], next);
                }
                close(pfd[1]);
                /* Let it write for a varying while, then kill it mid-stream. */
                for (int i = 0; i < 1 + iter % 7; i++)
                        if (read(pfd[0], &v, sizeof(v)) == sizeof(v))
                                durable = v;
                usleep((useconds_t)(iter % 5) * 200);
                ck_assert_int_eq(kill(pid, SIGKILL), 0);
                while (read(pfd[0], &v, sizeof(v)) == sizeof(v))
                        durable = v;
                close(pfd[0]);
                ck_assert_int_eq(waitpid(pid, &status, 0), pid);
                ck_assert(WIFSIGNALED(status));

                s = open_spool(1ULL << 30, 256 * 1024);
                for (;;) {
                        EventBatch b = {};
                        int r = spool_read(s, 50, SIZE_MAX, &b);

                        ck_assert_int_ge(r, 0);
                        for (size_t i = 0; i < b.n; i++) {
                                char want[16];

                                /* In order, nothing missing, the content intact. */
                                ck_assert_uint_eq(b.records[i]->seq, last + 1);
                                last = b.records[i]->seq;
                                snprintf(want, sizeof(want), "%015llu", (unsigned long long)last);
                                ck_assert_mem_eq(b.records[i]->data, want, 15);
                        }
                        event_batch_done(&b);
                        if (r == 0)
                                break;
                        ck_assert_int_eq(spool_ack(s), 0);
                }
                ck_assert_uint_ge(last, durable);
                spool_get_stats(s, &st);
                torn += st.corrupt_records;
                spool_free(s);
                next = last + 1;
        }
        /* A torn tail is possible but not guaranteed: a kill lands mid-write only now and then. */
        printf("# 100 kills: %llu records delivered, %llu torn tails skipped\n",
               (unsigned long long)next - 1, (unsigned long long)torn);
}
END_TEST

/* A spool directory someone else could tamper with is refused: a symlink (to a directory of ours, even),
 * one others may write to, one another uid owns. */
START_TEST(test_untrusted_directory_refused)
{
        SpoolConfig cfg = {.max_bytes = 1 << 20, .segment_bytes = 1 << 16};
        char target[sizeof(dir) + 16];
        Spool *s = NULL;

        snprintf(target, sizeof(target), "%s/real", dir);
        ck_assert_int_eq(mkdir(target, 0700), 0);
        ck_assert_int_eq(symlink(target, spool_dir), 0);
        ck_assert_int_eq(spool_open(&s, spool_dir, &cfg), -ELOOP);
        ck_assert_int_eq(unlink(spool_dir), 0);

        ck_assert_int_eq(mkdir(spool_dir, 0700), 0);
        ck_assert_int_eq(chmod(spool_dir, 0777), 0);
        ck_assert_int_eq(spool_open(&s, spool_dir, &cfg), -EPERM);
        ck_assert_int_eq(chmod(spool_dir, 0700), 0);
        if (geteuid() == 0) {
                ck_assert_int_eq(chown(spool_dir, 65534, 65534), 0);
                ck_assert_int_eq(spool_open(&s, spool_dir, &cfg), -EPERM);
                ck_assert_int_eq(chown(spool_dir, 0, 0), 0);
        }
        ck_assert_int_eq(spool_open(&s, spool_dir, &cfg), 0);
        spool_free(s);
}
END_TEST

static Suite *spool_suite(void)
{
        Suite *s = suite_create("spool");
        TCase *tc = tcase_create("disk");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_order_cursor_restart);
        tcase_add_test(tc, test_max_bytes_bounds_a_read);
        tcase_add_test(tc, test_flipped_bytes_skipped_and_counted);
        tcase_add_test(tc, test_torn_tail);
        tcase_add_test(tc, test_garbage_segment);
        tcase_add_test(tc, test_cap_drops_oldest_segment);
        tcase_add_test(tc, test_kill9_during_writes);
        tcase_add_test(tc, test_untrusted_directory_refused);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(spool_suite)
