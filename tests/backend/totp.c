/* TOTP (RFC 6238 over RFC 4226 HOTP) with HMAC-SHA256 and 8 digits.
 *
 * The counter is floor(unix_time / step). Verification accepts the current and the previous step so that
 * a token printed just before a step boundary still enrols; one token therefore stays valid for between
 * one and two steps, and any number of workloads may use it in that window (a DaemonSet shares one). */

#include "totp.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/macro.h"

static int hotp(const void *key, size_t key_size, uint64_t counter, char ret[static TOTP_STRLEN])
{
        unsigned char msg[8], mac[32];
        uint32_t code;
        unsigned off;

        for (int i = 7; i >= 0; i--, counter >>= 8)
                msg[i] = (unsigned char)(counter & 0xff);

        if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, key_size, msg, sizeof(msg), mac) < 0)
                return -EIO;

        /* RFC 4226 section 5.3: dynamic truncation. */
        off = mac[sizeof(mac) - 1] & 0x0f;
        code = (uint32_t)(mac[off] & 0x7f) << 24 | (uint32_t)mac[off + 1] << 16 |
               (uint32_t)mac[off + 2] << 8 | (uint32_t)mac[off + 3];
        snprintf(ret, TOTP_STRLEN, "%08u", (unsigned)(code % 100000000u));
        explicit_bzero(mac, sizeof(mac));
        return 0;
}

int totp_generate(const void *key, size_t key_size, uint64_t unix_time, uint64_t step,
                  char ret[static TOTP_STRLEN])
{
        if (step == 0)
                return -EINVAL;
        return hotp(key, key_size, unix_time / step, ret);
}

static bool token_well_formed(const char *token)
{
        if (strlen(token) != TOTP_DIGITS)
                return false;
        for (size_t i = 0; i < TOTP_DIGITS; i++)
                if (token[i] < '0' || token[i] > '9')
                        return false;
        return true;
}

int totp_verify(const void *key, size_t key_size, const char *token, uint64_t unix_time, uint64_t step)
{
        char expected[TOTP_STRLEN];
        bool match = false;
        int r;

        if (!token || !token_well_formed(token) || step == 0)
                return -EINVAL;

        for (uint64_t back = 0; back < 2; back++) {
                uint64_t counter = unix_time / step;
                if (counter < back)
                        break;
                r = hotp(key, key_size, counter - back, expected);
                if (r < 0)
                        return r;
                /* gnutls_memcmp is constant time; keep evaluating both steps either way. */
                match |= gnutls_memcmp(expected, token, TOTP_DIGITS) == 0;
        }
        explicit_bzero(expected, sizeof(expected));
        return match ? 0 : -EACCES;
}
