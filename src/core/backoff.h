#pragma once
/* Exponential backoff with jitter and a total give-up time. Pure: time and randomness come from the caller.
 */

#include <stdint.h>

#include "util/time-util.h"

typedef enum BackoffJitter {
        BACKOFF_JITTER_NONE,         /* initial * multiplier^n, capped */
        BACKOFF_JITTER_FULL,         /* uniform in [0, capped exponential] */
        BACKOFF_JITTER_DECORRELATED, /* uniform in [initial, 3 * previous delay], capped */
} BackoffJitter;

/* Returns a uniformly distributed 64-bit value. */
typedef uint64_t (*backoff_random_t)(void *userdata);

typedef struct Backoff {
        /* configuration */
        usec_t initial;
        usec_t max;
        double multiplier; /* >= 1 */
        usec_t give_up;    /* total time from backoff_start(); USEC_INFINITY = never */
        BackoffJitter jitter;
        backoff_random_t random;
        void *random_userdata;

        /* state */
        usec_t start;
        usec_t ceiling;  /* un-jittered delay of the next attempt */
        usec_t previous; /* last delay handed out (decorrelated jitter) */
        unsigned attempts;
} Backoff;

/* Starts counting the give-up time at `now` (any monotonic clock, as long as it stays the same). */
void backoff_start(Backoff *b, usec_t now);
/* The delay before the next attempt, at least `retry_after` (0 = none). Returns -ETIMEDOUT when
 * sleeping that long would cross the give-up time, -EINVAL on a bad configuration. */
int backoff_next(Backoff *b, usec_t now, usec_t retry_after, usec_t *ret_delay);
/* Time left until the give-up time, USEC_INFINITY if none, 0 when already past. */
usec_t backoff_remaining(const Backoff *b, usec_t now);

/* A deterministic generator for tests and reproducible runs: `state` is a uint64_t seed. */
uint64_t backoff_splitmix64(void *state);
/* The generator for production: random_u64(), `userdata` unused. */
uint64_t backoff_random(void *userdata);
