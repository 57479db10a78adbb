/* Backoff: deterministic sequences from a seeded generator, caps, Retry-After floor, give-up. */

#include <errno.h>

#include "check-tap.h"
#include "core/backoff.h"
#include "util/macro.h"

#define S USEC_PER_SEC

static Backoff plain(void)
{
        return (Backoff){.initial = 1 * S, .max = 30 * S, .multiplier = 2.0, .give_up = USEC_INFINITY};
}

/* Always the same value, so the jittered delay is predictable. */
static uint64_t fixed_random(void *userdata)
{
        return *(uint64_t *)userdata;
}

START_TEST(test_no_jitter_caps)
{
        static const usec_t want[] = {1 * S, 2 * S, 4 * S, 8 * S, 16 * S, 30 * S, 30 * S};
        Backoff b = plain();
        usec_t d;

        backoff_start(&b, 0);
        FOREACH_ARRAY (w, want, ELEMENTSOF(want)) {
                ck_assert_int_eq(backoff_next(&b, 0, 0, &d), 0);
                ck_assert_uint_eq(d, *w);
        }
        ck_assert_uint_eq(b.attempts, ELEMENTSOF(want));
        ck_assert_uint_eq(backoff_remaining(&b, 12345), USEC_INFINITY);

        /* Restarting starts over. */
        backoff_start(&b, 0);
        ck_assert_int_eq(backoff_next(&b, 0, 0, &d), 0);
        ck_assert_uint_eq(d, 1 * S);
}
END_TEST

START_TEST(test_full_jitter_deterministic)
{
        Backoff a = plain(), b = plain();
        uint64_t seed_a = 42, seed_b = 42;
        usec_t ceiling = 1 * S;

        a.jitter = b.jitter = BACKOFF_JITTER_FULL;
        a.random = b.random = backoff_splitmix64;
        a.random_userdata = &seed_a;
        b.random_userdata = &seed_b;
        backoff_start(&a, 0);
        backoff_start(&b, 0);

        for (int i = 0; i < 20; i++) {
                usec_t da, db;
                ck_assert_int_eq(backoff_next(&a, 0, 0, &da), 0);
                ck_assert_int_eq(backoff_next(&b, 0, 0, &db), 0);
                ck_assert_uint_eq(da, db); /* same seed, same sequence */
                ck_assert_uint_le(da, ceiling);
                ceiling = ceiling * 2 > 30 * S ? 30 * S : ceiling * 2;
        }

        /* The first delays from seed 42, pinned as literals (computed outside this code, see
         * test_splitmix64_reference) so a change in the generator or the arithmetic is noticed. */
        static const usec_t pinned[] = {422102, 583684, 2147948};
        seed_a = 42;
        backoff_start(&a, 0);
        FOREACH_ARRAY (p, pinned, ELEMENTSOF(pinned)) {
                usec_t d;
                ck_assert_int_eq(backoff_next(&a, 0, 0, &d), 0);
                ck_assert_uint_eq(d, *p);
        }
}
END_TEST

/* SplitMix64 against its published reference output (seed 0 gives 0xe220a8397b1dcdaf first) and the
 * values seed 42 gives, from an independent implementation; delays of 42's outputs modulo 1 s + 1,
 * 2 s + 1, 4 s + 1 are the pinned ones above. */
START_TEST(test_splitmix64_reference)
{
        static const uint64_t want42[] = {UINT64_C(0xbdd732262feb6e95), UINT64_C(0x28efe333b266f103),
                                          UINT64_C(0x47526757130f9f52)};
        uint64_t s = 0;

        ck_assert_uint_eq(backoff_splitmix64(&s), UINT64_C(0xe220a8397b1dcdaf));
        s = 42;
        FOREACH_ARRAY (w, want42, ELEMENTSOF(want42))
                ck_assert_uint_eq(backoff_splitmix64(&s), *w);
}
END_TEST

START_TEST(test_full_jitter_bounds)
{
        Backoff b = plain();
        uint64_t r = UINT64_MAX;
        usec_t d;

        b.jitter = BACKOFF_JITTER_FULL;
        b.random = fixed_random;
        b.random_userdata = &r;
        backoff_start(&b, 0);
        r = 0;
        ck_assert_int_eq(backoff_next(&b, 0, 0, &d), 0);
        ck_assert_uint_eq(d, 0);
        r = 2 * S; /* ceiling 2 s: 2 s % (2 s + 1) = 2 s, the top of the range */
        ck_assert_int_eq(backoff_next(&b, 0, 0, &d), 0);
        ck_assert_uint_eq(d, 2 * S);
}
END_TEST

START_TEST(test_decorrelated)
{
        Backoff b = plain();
        uint64_t r, seed = 7;
        usec_t d, prev;

        b.jitter = BACKOFF_JITTER_DECORRELATED;
        b.random = fixed_random;
        b.random_userdata = &r;
        backoff_start(&b, 0);

        /* Top of the range each time: 3 s, 9 s, 27 s, then capped at 30 s (81 s drawn). */
        static const usec_t want[] = {3 * S, 9 * S, 27 * S, 30 * S};
        static const usec_t drawn[] = {3 * S, 9 * S, 27 * S, 81 * S};
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                r = drawn[i] - 1 * S; /* lo + r % (hi - lo + 1) with lo = 1 s, hi = 3 * previous */
                ck_assert_int_eq(backoff_next(&b, 0, 0, &d), 0);
                ck_assert_uint_eq(d, want[i]);
        }
        /* Bottom of the range is the initial delay. */
        r = 0;
        ck_assert_int_eq(backoff_next(&b, 0, 0, &d), 0);
        ck_assert_uint_eq(d, 1 * S);

        /* With a real generator every delay stays within [initial, min(max, 3 * previous)]. */
        b.random = backoff_splitmix64;
        b.random_userdata = &seed;
        backoff_start(&b, 0);
        prev = 1 * S;
        for (int i = 0; i < 50; i++) {
                ck_assert_int_eq(backoff_next(&b, 0, 0, &d), 0);
                ck_assert_uint_ge(d, 1 * S);
                ck_assert_uint_le(d, prev * 3 > 30 * S ? 30 * S : prev * 3);
                prev = d;
        }
}
END_TEST

START_TEST(test_retry_after_floor)
{
        Backoff b = plain();
        usec_t d;

        backoff_start(&b, 0);
        ck_assert_int_eq(backoff_next(&b, 0, 5 * S, &d), 0);
        ck_assert_uint_eq(d, 5 * S); /* floor above the 1 s backoff */
        ck_assert_int_eq(backoff_next(&b, 0, 1 * S, &d), 0);
        ck_assert_uint_eq(d, 2 * S); /* backoff above the floor */
        ck_assert_int_eq(backoff_next(&b, 0, 120 * S, &d), 0);
        ck_assert_uint_eq(d, 120 * S); /* the server's wish beats our cap */
}
END_TEST

START_TEST(test_give_up)
{
        Backoff b = plain();
        usec_t d, t = 100 * S;

        b.give_up = 10 * S;
        backoff_start(&b, t);
        ck_assert_uint_eq(backoff_remaining(&b, t), 10 * S);

        /* 1 + 2 + 4 = 7 s of sleeping; the next 8 s would end at 15 s > 10 s. */
        ck_assert_int_eq(backoff_next(&b, t, 0, &d), 0);
        t += d;
        ck_assert_int_eq(backoff_next(&b, t, 0, &d), 0);
        t += d;
        ck_assert_int_eq(backoff_next(&b, t, 0, &d), 0);
        t += d;
        ck_assert_uint_eq(t, 107 * S);
        ck_assert_int_eq(backoff_next(&b, t, 0, &d), -ETIMEDOUT);
        ck_assert_uint_eq(b.attempts, 3);

        /* A Retry-After past the deadline ends retries at once. */
        backoff_start(&b, 0);
        ck_assert_int_eq(backoff_next(&b, 0, 11 * S, &d), -ETIMEDOUT);
        /* Time spent in requests counts too. */
        backoff_start(&b, 0);
        ck_assert_int_eq(backoff_next(&b, 9500 * USEC_PER_MSEC, 0, &d), -ETIMEDOUT);
        ck_assert_uint_eq(backoff_remaining(&b, 11 * S), 0);
}
END_TEST

START_TEST(test_bad_config)
{
        Backoff b = plain();
        usec_t d;

        b.jitter = BACKOFF_JITTER_FULL; /* no random source */
        backoff_start(&b, 0);
        ck_assert_int_eq(backoff_next(&b, 0, 0, &d), -EINVAL);
        b = plain();
        b.multiplier = 0.5;
        ck_assert_int_eq(backoff_next(&b, 0, 0, &d), -EINVAL);
        b = plain();
        b.max = 0;
        ck_assert_int_eq(backoff_next(&b, 0, 0, &d), -EINVAL);
}
END_TEST

static Suite *backoff_suite(void)
{
        Suite *s = suite_create("backoff");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_no_jitter_caps);
        tcase_add_test(tc, test_full_jitter_deterministic);
        tcase_add_test(tc, test_splitmix64_reference);
        tcase_add_test(tc, test_full_jitter_bounds);
        tcase_add_test(tc, test_decorrelated);
        tcase_add_test(tc, test_retry_after_floor);
        tcase_add_test(tc, test_give_up);
        tcase_add_test(tc, test_bad_config);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(backoff_suite)
