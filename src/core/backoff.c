/* Full and decorrelated jitter follow the AWS architecture blog ("Exponential Backoff And Jitter").
 * The server's Retry-After is a floor, not a replacement: we never retry earlier than asked, and a
 * Retry-After that reaches past the give-up time ends the retries instead of being shortened. */

#include <errno.h>

#include "core/backoff.h"

#include "util/random-util.h"

uint64_t backoff_splitmix64(void *state)
{
        return splitmix64(state);
}

uint64_t backoff_random(void *userdata)
{
        return random_u64();
}

void backoff_start(Backoff *b, usec_t now)
{
        b->start = now;
        b->ceiling = b->initial;
        b->previous = b->initial;
        b->attempts = 0;
}

static usec_t usec_min(usec_t a, usec_t b)
{
        return a < b ? a : b;
}

static usec_t usec_max(usec_t a, usec_t b)
{
        return a > b ? a : b;
}

/* Uniform in [lo, hi]; the modulo bias is irrelevant at these ranges. */
static usec_t random_between(Backoff *b, usec_t lo, usec_t hi)
{
        if (hi <= lo)
                return lo;
        if (hi - lo == UINT64_MAX)
                return b->random(b->random_userdata);
        return lo + b->random(b->random_userdata) % (hi - lo + 1);
}

static usec_t backoff_jittered(Backoff *b)
{
        usec_t d;

        switch (b->jitter) {
        case BACKOFF_JITTER_FULL:
                return random_between(b, 0, b->ceiling);
        case BACKOFF_JITTER_DECORRELATED:
                d = b->previous > UINT64_MAX / 3 ? UINT64_MAX : b->previous * 3;
                d = usec_min(b->max, random_between(b, b->initial, d));
                b->previous = d;
                return d;
        case BACKOFF_JITTER_NONE:
        default:
                return b->ceiling;
        }
}

static void backoff_grow(Backoff *b)
{
        double next = (double)b->ceiling * b->multiplier;

        b->ceiling = next >= (double)b->max ? b->max : (usec_t)next;
}

usec_t backoff_remaining(const Backoff *b, usec_t now)
{
        usec_t deadline;

        if (b->give_up == USEC_INFINITY)
                return USEC_INFINITY;
        deadline = b->start + b->give_up;
        return now >= deadline ? 0 : deadline - now;
}

int backoff_next(Backoff *b, usec_t now, usec_t retry_after, usec_t *ret_delay)
{
        usec_t delay;

        if (b->initial == 0 || b->max < b->initial || !(b->multiplier >= 1.0) ||
            (b->jitter != BACKOFF_JITTER_NONE && !b->random))
                return -EINVAL;

        delay = usec_max(backoff_jittered(b), retry_after);
        backoff_grow(b);

        if (b->give_up != USEC_INFINITY && delay >= backoff_remaining(b, now))
                return -ETIMEDOUT;

        b->attempts++;
        *ret_delay = delay;
        return 0;
}
