#pragma once
/* A growable byte buffer reused across appends, so encoding an event allocates only while it grows. */

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* Zero-initialise ({}) to get an empty buffer. A failed allocation makes the buffer sticky-failed: later
 * appends do nothing and strbuf_error() reports -ENOMEM, so encoders check once at the end. */
typedef struct StrBuf {
        char *data; /* NUL-terminated when len > 0 */
        size_t len;
        size_t cap;
        bool oom;
} StrBuf;

int strbuf_reserve(StrBuf *b, size_t extra);
void strbuf_append(StrBuf *b, const void *data, size_t n);
void strbuf_putc(StrBuf *b, char c);
void strbuf_puts(StrBuf *b, const char *s);
void strbuf_put_u64(StrBuf *b, unsigned long long v);
void strbuf_put_i64(StrBuf *b, long long v);
/* Drops the contents and the failure flag, keeps the memory. */
void strbuf_reset(StrBuf *b);
/* Cuts back to len bytes (len <= b->len), to undo a partial append. */
void strbuf_truncate(StrBuf *b, size_t len);
void strbuf_done(StrBuf *b);

static inline int strbuf_error(const StrBuf *b)
{
        return b->oom ? -ENOMEM : 0;
}
