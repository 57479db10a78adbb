/* event_decode(): well-formed records decode; every malformed one is -EBADMSG, without reading outside it.
 */

#include <stdint.h>
#include <sys/mman.h>

#include "check-tap.h"
#include "core/event-decode.h"
#include "util/macro.h"

typedef struct Record {
        uint8_t bytes[LG_RECORD_MAX + 64];
        size_t len;
} Record;

static void rec_put(Record *r, const void *p, size_t n)
{
        ck_assert_uint_le(r->len + n, sizeof(r->bytes));
        memcpy(r->bytes + r->len, p, n);
        r->len += n;
}

static void rec_header(Record *r, uint16_t type)
{
        struct lg_event_header h = {
                .type = type,
                .seq = 7,
                .ts_ns = 1000,
                .pid = 42,
                .tid = 43,
                .ppid = 1,
                .uid = 1000,
        };
        memcpy(h.comm, "bash", 5);
        r->len = 0;
        rec_put(r, &h, sizeof(h));
}

static void rec_finish(Record *r)
{
        uint16_t size = (uint16_t)r->len;
        memcpy(r->bytes + offsetof(struct lg_event_header, size), &size, sizeof(size));
}

static void make_exec(Record *r, const char *path, const void *argv, size_t argv_len)
{
        struct lg_exec e = {.filename_len = (uint16_t)(strlen(path) + 1), .argv_len = (uint16_t)argv_len};

        rec_header(r, LG_EVENT_EXEC);
        rec_put(r, &e, sizeof(e));
        rec_put(r, path, strlen(path) + 1);
        rec_put(r, argv, argv_len);
        rec_finish(r);
}

static void make_rename(Record *r, const char *from, const char *to)
{
        struct lg_file f = {
                .op = LG_FILE_RENAME,
                .path_len = (uint16_t)(strlen(from) + 1),
                .path2_len = (uint16_t)(strlen(to) + 1),
        };

        rec_header(r, LG_EVENT_FILE);
        rec_put(r, &f, sizeof(f));
        rec_put(r, from, strlen(from) + 1);
        rec_put(r, to, strlen(to) + 1);
        rec_finish(r);
}

START_TEST(test_decode_exec)
{
        static const char argv[] = "/bin/true\0--marker\0x y";
        Record r;
        LgEvent ev;

        make_exec(&r, "/usr/bin/true", argv, sizeof(argv));
        ck_assert_int_eq(event_decode(r.bytes, r.len, &ev), 0);
        ck_assert_uint_eq(ev.hdr.type, LG_EVENT_EXEC);
        ck_assert_uint_eq(ev.hdr.pid, 42);
        ck_assert_str_eq(ev.path, "/usr/bin/true");
        ck_assert_uint_eq(ev.path_len, 13);
        ck_assert_uint_eq(ev.argc, 3);
        ck_assert_uint_eq(ev.argv_size, sizeof(argv));
        ck_assert_str_eq(ev.argv + 10, "--marker");
        ck_assert_str_eq(ev.hdr.comm, "bash");

        /* The ring buffer may pad a record: extra bytes beyond hdr.size are fine. */
        ck_assert_int_eq(event_decode(r.bytes, r.len + 8, &ev), 0);
}
END_TEST

START_TEST(test_decode_rename)
{
        Record r;
        LgEvent ev;

        make_rename(&r, "/etc/a", "/etc/b");
        ck_assert_int_eq(event_decode(r.bytes, r.len, &ev), 0);
        ck_assert_str_eq(ev.path, "/etc/a");
        ck_assert_str_eq(ev.path2, "/etc/b");
}
END_TEST

START_TEST(test_decode_fixed_types)
{
        static const struct {
                uint16_t type;
                size_t payload;
        } types[] = {
                {LG_EVENT_EXIT, sizeof(struct lg_exit)},     {LG_EVENT_CRED, sizeof(struct lg_cred)},
                {LG_EVENT_NET, sizeof(struct lg_net)},       {LG_EVENT_PTRACE, sizeof(struct lg_ptrace)},
                {LG_EVENT_MODULE, sizeof(struct lg_module)}, {LG_EVENT_BPF_PROG, sizeof(struct lg_bpf_prog)},
        };
        uint8_t zeros[64] = {};

        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                Record r;
                LgEvent ev;

                rec_header(&r, types[i].type);
                rec_put(&r, zeros, types[i].payload);
                rec_finish(&r);
                ck_assert_int_eq(event_decode(r.bytes, r.len, &ev), 0);
                ck_assert_ptr_null(ev.name);
                /* One byte short of the payload. */
                r.len--;
                rec_finish(&r);
                ck_assert_int_eq(event_decode(r.bytes, r.len, &ev), -EBADMSG);
        }
}
END_TEST

START_TEST(test_decode_truncated_header)
{
        Record r;
        LgEvent ev;

        make_rename(&r, "/etc/a", "/etc/b");
        for (size_t n = 0; n < sizeof(struct lg_event_header); n++)
                ck_assert_int_eq(event_decode(r.bytes, n, &ev), -EBADMSG);
        ck_assert_int_eq(event_decode(NULL, 100, &ev), -EBADMSG);
}
END_TEST

START_TEST(test_decode_every_truncation)
{
        static const char argv[] = "a\0bb";
        Record r;
        LgEvent ev;

        make_exec(&r, "/bin/x", argv, sizeof(argv));
        for (size_t n = 0; n < r.len; n++)
                ck_assert_int_eq(event_decode(r.bytes, n, &ev), -EBADMSG);
}
END_TEST

START_TEST(test_decode_size_lies)
{
        Record r;
        LgEvent ev;
        uint16_t size;

        make_rename(&r, "/etc/a", "/etc/b");
        /* Claims more than was delivered. */
        size = (uint16_t)(r.len + 1);
        memcpy(r.bytes + offsetof(struct lg_event_header, size), &size, sizeof(size));
        ck_assert_int_eq(event_decode(r.bytes, r.len, &ev), -EBADMSG);
        /* Claims less than the strings need. */
        size = (uint16_t)(r.len - 1);
        memcpy(r.bytes + offsetof(struct lg_event_header, size), &size, sizeof(size));
        ck_assert_int_eq(event_decode(r.bytes, r.len, &ev), -EBADMSG);
        /* Claims less than the header. */
        size = 3;
        memcpy(r.bytes + offsetof(struct lg_event_header, size), &size, sizeof(size));
        ck_assert_int_eq(event_decode(r.bytes, r.len, &ev), -EBADMSG);
        /* Trailing bytes no length accounts for. */
        rec_put(&r, "zz", 2);
        rec_finish(&r);
        ck_assert_int_eq(event_decode(r.bytes, r.len, &ev), -EBADMSG);
}
END_TEST

START_TEST(test_decode_unknown_type)
{
        Record r;
        LgEvent ev;

        make_rename(&r, "/etc/a", "/etc/b");
        for (uint16_t t = _LG_EVENT_TYPE_MAX; t < _LG_EVENT_TYPE_MAX + 3; t++) {
                memcpy(r.bytes, &t, sizeof(t));
                ck_assert_int_eq(event_decode(r.bytes, r.len, &ev), -EBADMSG);
        }
        memset(r.bytes, 0, 2);
        ck_assert_int_eq(event_decode(r.bytes, r.len, &ev), -EBADMSG);
        memset(r.bytes, 0xff, 2);
        ck_assert_int_eq(event_decode(r.bytes, r.len, &ev), -EBADMSG);
}
END_TEST

START_TEST(test_decode_string_without_nul)
{
        Record r;
        LgEvent ev;
        struct lg_file f = {.op = LG_FILE_OPEN, .path_len = 6};

        rec_header(&r, LG_EVENT_FILE);
        rec_put(&r, &f, sizeof(f));
        rec_put(&r, "/etc/p", 6); /* six bytes, no NUL */
        rec_finish(&r);
        ck_assert_int_eq(event_decode(r.bytes, r.len, &ev), -EBADMSG);

        /* argv must end in NUL too. */
        make_exec(&r, "/bin/x", "abc", 3);
        ck_assert_int_eq(event_decode(r.bytes, r.len, &ev), -EBADMSG);

        /* A file event without a path is malformed. */
        f.path_len = 0;
        rec_header(&r, LG_EVENT_FILE);
        rec_put(&r, &f, sizeof(f));
        rec_finish(&r);
        ck_assert_int_eq(event_decode(r.bytes, r.len, &ev), -EBADMSG);
}
END_TEST

START_TEST(test_decode_huge_lengths)
{
        Record r;
        LgEvent ev;
        struct lg_exec e = {.filename_len = 0xffff, .argv_len = 0xffff};
        struct lg_file f = {.op = LG_FILE_RENAME, .path_len = 2, .path2_len = 0xfffe};

        rec_header(&r, LG_EVENT_EXEC);
        rec_put(&r, &e, sizeof(e));
        rec_put(&r, "/\0", 2);
        rec_finish(&r);
        ck_assert_int_eq(event_decode(r.bytes, r.len, &ev), -EBADMSG);

        rec_header(&r, LG_EVENT_FILE);
        rec_put(&r, &f, sizeof(f));
        rec_put(&r, "/\0", 2);
        rec_finish(&r);
        ck_assert_int_eq(event_decode(r.bytes, r.len, &ev), -EBADMSG);

        /* Records larger than any the kernel writes are refused whole. */
        ck_assert_int_eq(event_decode(r.bytes, LG_RECORD_MAX + 1, &ev), -EBADMSG);
        ck_assert_int_eq(event_decode(r.bytes, SIZE_MAX, &ev), -EBADMSG);
}
END_TEST

/* A record ending exactly at an unmapped page: any read past its end faults. */
START_TEST(test_decode_at_page_end)
{
        long page = sysconf(_SC_PAGESIZE);
        uint8_t *map =
                mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        static const char argv[] = "a\0b";
        Record r;
        LgEvent ev;

        ck_assert_ptr_ne(map, MAP_FAILED);
        ck_assert_int_eq(mprotect(map + page, (size_t)page, PROT_NONE), 0);
        make_exec(&r, "/bin/x", argv, sizeof(argv));
        for (size_t n = 0; n <= r.len; n++) {
                uint8_t *at = map + page - n;

                memcpy(at, r.bytes, n);
                ck_assert_int_eq(event_decode(at, n, &ev), n == r.len ? 0 : -EBADMSG);
        }
        /* Lengths that point past the end, at the page edge. */
        {
                struct lg_exec e = {.filename_len = 7, .argv_len = 200};
                uint8_t *at;

                make_exec(&r, "/bin/x", argv, sizeof(argv));
                memcpy(r.bytes + sizeof(struct lg_event_header), &e, sizeof(e));
                at = map + page - r.len;
                memcpy(at, r.bytes, r.len);
                ck_assert_int_eq(event_decode(at, r.len, &ev), -EBADMSG);
        }
        munmap(map, (size_t)page * 2);
}
END_TEST

/* Random bytes never crash the decoder, and what it accepts is consistent. */
START_TEST(test_decode_random)
{
        uint32_t state = 2463534242u;
        Record r;
        LgEvent ev;

        for (unsigned iter = 0; iter < 20000; iter++) {
                make_rename(&r, "/etc/passwd", "/etc/shadow");
                for (unsigned k = 0; k < 4; k++) {
                        state ^= state << 13;
                        state ^= state >> 17;
                        state ^= state << 5;
                        r.bytes[state % r.len] = (uint8_t)(state >> 8);
                }
                if (event_decode(r.bytes, r.len, &ev) == 0) {
                        ck_assert_uint_le(ev.hdr.size, r.len);
                        if (ev.path)
                                ck_assert_uint_eq(strlen(ev.path), ev.path_len);
                }
        }
}
END_TEST

static Suite *decode_suite(void)
{
        Suite *s = suite_create("event-decode");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_decode_exec);
        tcase_add_test(tc, test_decode_rename);
        tcase_add_test(tc, test_decode_fixed_types);
        tcase_add_test(tc, test_decode_truncated_header);
        tcase_add_test(tc, test_decode_every_truncation);
        tcase_add_test(tc, test_decode_size_lies);
        tcase_add_test(tc, test_decode_unknown_type);
        tcase_add_test(tc, test_decode_string_without_nul);
        tcase_add_test(tc, test_decode_huge_lengths);
        tcase_add_test(tc, test_decode_at_page_end);
        tcase_add_test(tc, test_decode_random);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(decode_suite)
