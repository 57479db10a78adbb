#pragma once
/* Random numbers for jitter and identifiers that must differ between hosts, not for secrets. */

#include <stdint.h>

/* A deterministic generator: advances `state` and returns the next value (splitmix64). */
uint64_t splitmix64(uint64_t *state);
/* 64 bits from getrandom(); before the kernel's pool is ready (early boot) a value mixed from the
 * monotonic clock and the pid instead, which still differs between hosts. Never fails. */
uint64_t random_u64(void);
