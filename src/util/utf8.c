/* A strict UTF-8 decoder (RFC 3629): overlong forms and surrogates are malformed, since a lenient
 * decoder is how "\xc0\x8a" becomes a newline further down a pipeline. */

#include "util/utf8.h"

#include <stdint.h>
#include <string.h>

size_t utf8_sequence_length(const char *s, size_t n)
{
        const unsigned char *u = (const unsigned char *)s;
        size_t len;
        uint32_t cp, min;

        if (n == 0)
                return 0;
        if (u[0] < 0x80)
                return 1;
        if ((u[0] & 0xe0) == 0xc0)
                len = 2, cp = u[0] & 0x1f, min = 0x80;
        else if ((u[0] & 0xf0) == 0xe0)
                len = 3, cp = u[0] & 0x0f, min = 0x800;
        else if ((u[0] & 0xf8) == 0xf0)
                len = 4, cp = u[0] & 0x07, min = 0x10000;
        else
                return 0;
        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((u[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (u[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

bool utf8_is_control(const char *s, size_t len)
{
        const unsigned char *u = (const unsigned char *)s;

        if (len == 1)
                return u[0] < 0x20 || u[0] == 0x7f;
        /* C1, U+0080 to U+009F, is encoded 0xc2 0x80 to 0xc2 0x9f. */
        return len == 2 && u[0] == 0xc2 && u[1] < 0xa0;
}

bool utf8_is_printable(const char *s)
{
        size_t n = strlen(s);

        for (size_t i = 0; i < n;) {
                size_t len = utf8_sequence_length(s + i, n - i);
                if (len == 0 || utf8_is_control(s + i, len))
                        return false;
                i += len;
        }
        return true;
}
