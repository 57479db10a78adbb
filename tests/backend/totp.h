#pragma once
/* RFC 6238 time-based one-time passwords: HMAC-SHA256, 8 digits, T0 = 0. Pure: time is a parameter. */

#include <stddef.h>
#include <stdint.h>

#define TOTP_DIGITS   8
#define TOTP_STRLEN   (TOTP_DIGITS + 1)
#define TOTP_STEP_DEF 3600

/* Writes the token for the step containing `unix_time` into `ret` (NUL-terminated). */
int totp_generate(const void *key, size_t key_size, uint64_t unix_time, uint64_t step,
                  char ret[static TOTP_STRLEN]);

/* 0 if `token` is the token of the current or the previous step at `unix_time`, -EACCES if not, -EINVAL
 * if it is not 8 decimal digits. Compares in constant time. */
int totp_verify(const void *key, size_t key_size, const char *token, uint64_t unix_time, uint64_t step);
