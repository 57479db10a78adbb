/* Growable buffer: doubling growth, a sticky out-of-memory flag instead of an error on every append. */

#include <stdint.h>

#include "util/strbuf.h"

int strbuf_grow(StrBuf *b, size_t extra)
{
        size_t need, cap;
        char *p;

        if (b->oom)
                return -ENOMEM;
        if (extra > SIZE_MAX - b->len - 1)
                goto fail;
        need = b->len + extra + 1;
        if (need <= b->cap)
                return 0;
        cap = b->cap ? b->cap : 256;
        while (cap < need)
                cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        p = realloc(b->data, cap);
        if (!p)
                goto fail;
        b->data = p;
        b->cap = cap;
        return 0;
fail:
        b->oom = true;
        return -ENOMEM;
}

void strbuf_append_slow(StrBuf *b, const void *data, size_t n)
{
        if (strbuf_reserve(b, n) < 0)
                return;
        if (n > 0)
                memcpy(b->data + b->len, data, n);
        b->len += n;
        b->data[b->len] = 0;
}

void strbuf_put_u64(StrBuf *b, unsigned long long v)
{
        char tmp[24];
        size_t i = sizeof(tmp);

        do {
                tmp[--i] = (char)('0' + v % 10);
                v /= 10;
        } while (v > 0);
        strbuf_append(b, tmp + i, sizeof(tmp) - i);
}

void strbuf_put_i64(StrBuf *b, long long v)
{
        if (v < 0) {
                strbuf_putc(b, '-');
                strbuf_put_u64(b, 0ULL - (unsigned long long)v);
        } else
                strbuf_put_u64(b, (unsigned long long)v);
}

void strbuf_reset(StrBuf *b)
{
        b->len = 0;
        b->oom = false;
        if (b->data)
                b->data[0] = 0;
}

void strbuf_truncate(StrBuf *b, size_t len)
{
        if (len >= b->len)
                return;
        b->len = len;
        b->data[len] = 0;
}

void strbuf_done(StrBuf *b)
{
        free(b->data);
        *b = (StrBuf){};
}
