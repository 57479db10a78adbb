/* The memory queue: FIFO order, byte cap with drop-oldest, batches bounded by count and bytes, ack and
 * nack (back at the front, order kept), in-flight records charged but never dropped. */

#include <stdio.h>

#include "check-tap.h"
#include "ship/event-queue.h"

static void push_n(EventQueue *q, uint64_t from, uint64_t to)
{
        char line[64];

        for (uint64_t i = from; i <= to; i++) {
                int n = snprintf(line, sizeof(line), "{\"sequence\":%llu}\n", (unsigned long long)i);
                ck_assert_int_ge(event_queue_push(q, i, line, (size_t)n, i), 0);
        }
}

static void assert_seqs(const EventBatch *b, uint64_t first, size_t n)
{
        ck_assert_uint_eq(b->n, n);
        for (size_t i = 0; i < n; i++)
                ck_assert_uint_eq(b->records[i]->seq, first + i);
}

START_TEST(test_fifo_and_batches)
{
        _cleanup_(event_queue_freep) EventQueue *q = NULL;
        EventBatch b = {};

        ck_assert_int_eq(event_queue_new(&q, 1 << 20), 0);
        ck_assert_uint_eq(event_queue_oldest(q), USEC_INFINITY);
        push_n(q, 1, 1000); /* past the initial ring size: the ring grows */
        ck_assert_uint_eq(event_queue_n_queued(q), 1000);
        ck_assert_uint_eq(event_queue_oldest(q), 1);

        ck_assert_uint_eq(event_queue_take(q, 10, SIZE_MAX, &b), 10);
        assert_seqs(&b, 1, 10);
        event_queue_ack(q, &b);
        ck_assert_uint_eq(event_queue_take(q, 1000, 3 * 16, &b), 3); /* "{"sequence":11}\n" is 16 bytes */
        assert_seqs(&b, 11, 3);
        event_queue_ack(q, &b);
        /* A record larger than max_bytes still leaves, alone. */
        ck_assert_uint_eq(event_queue_take(q, 1000, 1, &b), 1);
        assert_seqs(&b, 14, 1);
        event_queue_ack(q, &b);
        ck_assert_uint_eq(event_queue_n_queued(q), 1000 - 14);
        ck_assert_uint_eq(event_queue_n_dropped(q), 0);
        event_batch_done(&b);
}
END_TEST

START_TEST(test_nack_keeps_order)
{
        _cleanup_(event_queue_freep) EventQueue *q = NULL;
        EventBatch b = {}, all = {};

        ck_assert_int_eq(event_queue_new(&q, 1 << 20), 0);
        push_n(q, 1, 300);
        ck_assert_uint_eq(event_queue_take(q, 5, SIZE_MAX, &b), 5);
        push_n(q, 301, 310);
        event_queue_nack(q, &b);
        ck_assert_uint_eq(b.n, 0);
        ck_assert_uint_eq(event_queue_n_queued(q), 310);
        ck_assert_uint_eq(event_queue_take(q, SIZE_MAX, SIZE_MAX, &all), 310);
        assert_seqs(&all, 1, 310);
        event_queue_ack(q, &all);
        ck_assert_uint_eq(event_queue_bytes(q), 0);
        event_batch_done(&b);
        event_batch_done(&all);
}
END_TEST

START_TEST(test_cap_drops_oldest)
{
        _cleanup_(event_queue_freep) EventQueue *q = NULL;
        size_t cost = event_record_cost(16); /* every line 1..9 below is 16 bytes: {"sequence":N}\n */
        EventBatch b = {};

        ck_assert_int_eq(event_queue_new(&q, 5 * cost), 0);
        push_n(q, 1, 5);
        ck_assert_uint_eq(event_queue_n_dropped(q), 0);
        ck_assert(!event_queue_fits(q, 16));
        ck_assert_int_eq(event_queue_push(q, 6, "{\"sequence\":6}\n", 16, 6), 1);
        ck_assert_uint_eq(event_queue_n_dropped(q), 1);
        ck_assert_uint_eq(event_queue_oldest(q), 2);
        ck_assert_uint_le(event_queue_bytes(q), event_queue_max_bytes(q));

        /* In flight: charged, never dropped; a newcomer that cannot fit is the one dropped. */
        ck_assert_uint_eq(event_queue_take(q, 5, SIZE_MAX, &b), 5);
        ck_assert_int_eq(event_queue_push(q, 7, "{\"sequence\":7}\n", 16, 7), 1);
        ck_assert_uint_eq(event_queue_n_queued(q), 0);
        ck_assert_uint_eq(event_queue_n_dropped(q), 2);
        assert_seqs(&b, 2, 5);

        /* Too big for the whole cap. */
        ck_assert_int_eq(event_queue_push(q, 8, "x", 6 * cost, 8), -E2BIG);
        ck_assert_uint_eq(event_queue_n_dropped(q), 3);
        event_queue_ack(q, &b);
        ck_assert_uint_eq(event_queue_bytes(q), 0);
        event_batch_done(&b);
}
END_TEST

START_TEST(test_drain_and_forget)
{
        _cleanup_(event_queue_freep) EventQueue *q = NULL;
        EventBatch inflight = {}, rest = {};

        ck_assert_int_eq(event_queue_new(&q, 1 << 20), 0);
        push_n(q, 1, 20);
        ck_assert_uint_eq(event_queue_take(q, 4, SIZE_MAX, &inflight), 4);
        ck_assert_int_eq(event_queue_drain(q, &rest), 0);
        assert_seqs(&rest, 5, 16);
        ck_assert_uint_eq(event_queue_n_queued(q), 0);
        ck_assert_uint_eq(event_queue_payload_bytes(q), 0);
        event_queue_forget(q, &inflight);
        ck_assert_uint_eq(event_queue_bytes(q), 0);
        event_batch_done(&inflight);
        event_batch_done(&rest);
}
END_TEST

START_TEST(test_reorders_late_records)
{
        _cleanup_(event_queue_freep) EventQueue *q = NULL;
        static const uint64_t in[] = {1, 3, 2, 4, 6, 5, 7};
        EventBatch b = {};

        ck_assert_int_eq(event_queue_new(&q, 1 << 20), 0);
        FOREACH_ARRAY (s, in, ELEMENTSOF(in))
                ck_assert_int_eq(event_queue_push(q, *s, "{}", 2, *s), 0);
        ck_assert_uint_eq(event_queue_take(q, SIZE_MAX, SIZE_MAX, &b), 7);
        assert_seqs(&b, 1, 7);
        event_queue_ack(q, &b);

        /* Beyond the window (a counter that started over): appended. */
        push_n(q, 100, 100 + EVENT_QUEUE_REORDER_WINDOW);
        ck_assert_int_eq(event_queue_push(q, 1, "{}", 2, 0), 0);
        ck_assert_uint_eq(event_queue_take(q, SIZE_MAX, SIZE_MAX, &b), EVENT_QUEUE_REORDER_WINDOW + 2);
        ck_assert_uint_eq(b.records[b.n - 1]->seq, 1);
        event_queue_ack(q, &b);
        event_batch_done(&b);
}
END_TEST

static Suite *event_queue_suite(void)
{
        Suite *s = suite_create("event-queue");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_fifo_and_batches);
        tcase_add_test(tc, test_nack_keeps_order);
        tcase_add_test(tc, test_cap_drops_oldest);
        tcase_add_test(tc, test_drain_and_forget);
        tcase_add_test(tc, test_reorders_late_records);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(event_queue_suite)
