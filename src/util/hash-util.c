#include "util/hash-util.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <string.h>

#include "util/macro.h"

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = digits[in[i] >> 4];
                out[2 * i + 1] = digits[in[i] & 15];
        }
        out[2 * n] = 0;
}

int sha256_hex_parts(const char *const *parts, size_t n, char ret[static SHA256_HEX_SIZE])
{
        unsigned char digest[32];
        gnutls_hash_hd_t h;

        if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
                return -EIO;
        for (size_t i = 0; i < n; i++)
                if (gnutls_hash(h, parts[i], strlen(parts[i])) < 0) {
                        gnutls_hash_deinit(h, NULL);
                        return -EIO;
                }
        gnutls_hash_deinit(h, digest);
        hex_encode(digest, sizeof(digest), ret);
        return 0;
}

int sha256_hex(const void *data, size_t size, char ret[static SHA256_HEX_SIZE])
{
        unsigned char digest[32];

        if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, size, digest) < 0)
                return -EIO;
        hex_encode(digest, sizeof(digest), ret);
        return 0;
}

static int unhex_digit(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

int hexdecode_exact(const char *hex, void *ret, size_t size)
{
        unsigned char *out = ret;

        if (strlen(hex) != size * 2)
                return -EINVAL;
        for (size_t i = 0; i < size; i++) {
                int hi = unhex_digit(hex[2 * i]), lo = unhex_digit(hex[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                out[i] = (unsigned char)(hi << 4 | lo);
        }
        return 0;
}
