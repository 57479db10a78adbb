/* getrandom() with a fallback: jitter must never block boot waiting for entropy. */

#include "util/random-util.h"

#include <sys/random.h>
#include <unistd.h>

#include "util/time-util.h"

uint64_t splitmix64(uint64_t *state)
{
        uint64_t z;

        z = (*state += UINT64_C(0x9e3779b97f4a7c15));
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

uint64_t random_u64(void)
{
        uint64_t v;

        if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t)sizeof(v))
                return v;
        v = now(CLOCK_MONOTONIC) ^ ((uint64_t)getpid() << 32);
        return splitmix64(&v);
}
