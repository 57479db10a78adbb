/* Batches: the send-now decision (count, bytes, age), NDJSON framing, and gzip checked by inflating it
 * back with zlib. */

#include <zlib.h>

#include "check-tap.h"
#include "ship/batch.h"

static void batch_add(EventBatch *b, uint64_t seq, const char *s)
{
        ck_assert_int_eq(event_batch_push(b, event_record_new(seq, s, strlen(s), 0)), 0);
}

/* Inflates a gzip member (windowBits 16 + 15 accepts only gzip). */
static char *gunzip(const void *data, size_t size, size_t *ret_size)
{
        z_stream z = {};
        size_t cap = 1 << 20;
        char *out = malloc(cap);

        ck_assert_ptr_nonnull(out);
        ck_assert_int_eq(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
        z.next_in = (Bytef *)data;
        z.avail_in = (uInt)size;
        z.next_out = (Bytef *)out;
        z.avail_out = (uInt)cap - 1;
        ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
        *ret_size = z.total_out;
        out[z.total_out] = '\0';
        inflateEnd(&z);
        return out;
}

START_TEST(test_due)
{
        BatchLimits l = {.max_count = 3, .max_bytes = 100, .max_age = 1000};

        ck_assert(!batch_due(&l, 0, 0, 0, 5000));
        ck_assert(!batch_due(&l, 2, 99, 500, 1499));
        ck_assert(batch_due(&l, 2, 99, 500, 1500)); /* age */
        ck_assert(batch_due(&l, 3, 10, 500, 500));  /* count */
        ck_assert(batch_due(&l, 1, 100, 500, 500)); /* bytes */
        ck_assert_uint_eq(batch_deadline(&l, 500), 1500);
        l.max_age = USEC_INFINITY;
        ck_assert_uint_eq(batch_deadline(&l, 500), USEC_INFINITY);
        ck_assert(!batch_due(&l, 1, 1, 0, USEC_INFINITY - 1));
}
END_TEST

START_TEST(test_ndjson_framing)
{
        _cleanup_free_ char *out = NULL;
        EventBatch b = {};
        size_t n;

        batch_add(&b, 1, "{\"a\":1}\n");
        batch_add(&b, 2, "{\"b\":2}");
        ck_assert_uint_eq(b.bytes, 15);
        ck_assert_int_eq(batch_encode_ndjson(&b, &out, &n), 0);
        ck_assert_str_eq(out, "{\"a\":1}\n{\"b\":2}\n");
        ck_assert_uint_eq(n, 16);
        event_batch_done(&b);
        ck_assert_uint_eq(b.n, 0);
}
END_TEST

START_TEST(test_gzip_round_trip)
{
        _cleanup_free_ void *gz = NULL;
        _cleanup_free_ char *plain = NULL, *want = NULL;
        EventBatch b = {};
        size_t gz_size, plain_size, want_size;
        char line[128];

        for (int i = 1; i <= 500; i++) {
                snprintf(line, sizeof(line),
                         "{\"metadata\":{\"sequence\":%d},\"cmd\":\"/bin/true MARKER-%d\"}", i, i);
                batch_add(&b, (uint64_t)i, line);
        }
        ck_assert_int_eq(batch_encode_gzip(&b, 6, &gz, &gz_size), 0);
        ck_assert_int_eq(((unsigned char *)gz)[0], 0x1f); /* RFC 1952 magic */
        ck_assert_int_eq(((unsigned char *)gz)[1], 0x8b);
        ck_assert_int_eq(batch_encode_ndjson(&b, &want, &want_size), 0);
        ck_assert_uint_lt(gz_size, want_size / 4);
        plain = gunzip(gz, gz_size, &plain_size);
        ck_assert_uint_eq(plain_size, want_size);
        ck_assert_mem_eq(plain, want, want_size);
        event_batch_done(&b);
}
END_TEST

START_TEST(test_gzip_edges)
{
        _cleanup_free_ void *gz = NULL;
        _cleanup_free_ char *plain = NULL;
        size_t gz_size, plain_size;

        ck_assert_int_eq(gzip_compress("", 0, -1, &gz, &gz_size), 0);
        plain = gunzip(gz, gz_size, &plain_size);
        ck_assert_uint_eq(plain_size, 0);
        ck_assert_int_eq(gzip_compress("x", 1, 10, &gz, &gz_size), -EINVAL);
        ck_assert_int_eq(gzip_compress(NULL, 1, 1, &gz, &gz_size), -EINVAL);
}
END_TEST

static Suite *batch_suite(void)
{
        Suite *s = suite_create("batch");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_due);
        tcase_add_test(tc, test_ndjson_framing);
        tcase_add_test(tc, test_gzip_round_trip);
        tcase_add_test(tc, test_gzip_edges);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(batch_suite)
