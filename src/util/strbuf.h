#pragma once
/* A growable byte buffer reused across appends, so encoding an event allocates only while it grows. */

#include <stdbool.h>
#include <stddef.h>

#include "util/macro.h"

/* Zero-initialise ({}) to get an empty buffer. A failed allocation makes the buffer sticky-failed: later
 * appends do nothing and strbuf_error() reports -ENOMEM, so encoders check once at the end. */
typedef struct StrBuf {
        char *data; /* NUL-terminated when len > 0 */
        size_t len;
        size_t cap;
        bool oom;
} StrBuf;

/* Makes room for `extra` more bytes and the NUL; -ENOMEM (sticky) if that fails. */
int strbuf_grow(StrBuf *b, size_t extra);
/* strbuf_append() when the buffer must grow first. */
void strbuf_append_slow(StrBuf *b, const void *data, size_t n);

static inline int strbuf_reserve(StrBuf *b, size_t extra)
{
        if (_likely_(!b->oom && b->cap - b->len > extra))
                return 0;
        return strbuf_grow(b, extra);
}

/* Inline: encoders call these several times per field, hundreds of thousands of events per second. */
static inline void strbuf_append(StrBuf *b, const void *data, size_t n)
{
        if (_likely_(!b->oom && b->cap - b->len > n)) { /* room for n bytes and the NUL */
                memcpy(b->data + b->len, data, n);
                b->len += n;
                b->data[b->len] = 0;
                return;
        }
        strbuf_append_slow(b, data, n);
}

static inline void strbuf_putc(StrBuf *b, char c)
{
        strbuf_append(b, &c, 1);
}

static inline void strbuf_puts(StrBuf *b, const char *s)
{
        strbuf_append(b, s, strlen(s));
}

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
