#pragma once
/* UTF-8 checks for text that reaches logs, identities and the API. */

#include <stdbool.h>
#include <stddef.h>

/* The length of the well-formed UTF-8 sequence at s[0..n) (1 to 4), or 0 when it is not one: a stray
 * continuation byte, a truncated sequence, an overlong form, a surrogate or a code point past U+10FFFF. */
size_t utf8_sequence_length(const char *s, size_t n);
/* True for a code point that moves the cursor or starts an escape sequence rather than showing a glyph:
 * C0 (including CR, LF, ESC), DEL and C1. `s` holds a well-formed sequence of length `len`. */
bool utf8_is_control(const char *s, size_t len);
/* True when `s` is well-formed UTF-8 without a control character (tab included). */
bool utf8_is_printable(const char *s);
