/* Time formats of the wire: RFC 3339 timestamps in JSON (certificate expiry) and the HTTP dates and
 * delta-seconds of Retry-After, which the enrolment, renewal and delivery clients all honour. Pure: the
 * current time is a parameter, so every form is tested byte for byte in test-enroll-proto.c. */

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/http-time.h"
#include "util/macro.h"

/* Parses exactly `n` digits. */
static int parse_digits(const char **p, unsigned n, unsigned *ret)
{
        unsigned v = 0;

        for (unsigned i = 0; i < n; i++) {
                if (!isdigit((unsigned char)(*p)[i]))
                        return -EINVAL;
                v = v * 10 + (unsigned)((*p)[i] - '0');
        }
        *p += n;
        *ret = v;
        return 0;
}

static bool tm_fields_valid(unsigned year, unsigned mon, unsigned day, unsigned h, unsigned m, unsigned s)
{
        return year >= 1970 && year <= 9999 && mon >= 1 && mon <= 12 && day >= 1 && day <= 31 && h <= 23 &&
               m <= 59 && s <= 60;
}

static int make_time(unsigned year, unsigned mon, unsigned day, unsigned h, unsigned m, unsigned s,
                     int64_t offset_sec, usec_t *ret)
{
        struct tm tm = {
                .tm_year = (int)year - 1900,
                .tm_mon = (int)mon - 1,
                .tm_mday = (int)day,
                .tm_hour = (int)h,
                .tm_min = (int)m,
                .tm_sec = s == 60 ? 59 : (int)s, /* a leap second counts as the second before */
        };
        int64_t t;

        if (!tm_fields_valid(year, mon, day, h, m, s))
                return -EINVAL;
        t = (int64_t)timegm(&tm);
        /* timegm() normalises 31 Feb to 3 Mar; such a date is malformed, not a different day. */
        if (tm.tm_mday != (int)day || tm.tm_mon != (int)mon - 1)
                return -EINVAL;
        t -= offset_sec;
        if (t < 0)
                return -ERANGE;
        *ret = (usec_t)t * USEC_PER_SEC;
        return 0;
}

int rfc3339_parse(const char *s, usec_t *ret)
{
        unsigned year, mon, day, h, m, sec, oh, om;
        int64_t offset = 0;
        usec_t frac = 0, t;
        const char *p = s;
        int r;

        if (!s)
                return -EINVAL;
        if (parse_digits(&p, 4, &year) < 0 || *p++ != '-' || parse_digits(&p, 2, &mon) < 0 || *p++ != '-' ||
            parse_digits(&p, 2, &day) < 0)
                return -EINVAL;
        if (*p != 'T' && *p != 't' && *p != ' ')
                return -EINVAL;
        p++;
        if (parse_digits(&p, 2, &h) < 0 || *p++ != ':' || parse_digits(&p, 2, &m) < 0 || *p++ != ':' ||
            parse_digits(&p, 2, &sec) < 0)
                return -EINVAL;
        if (*p == '.') {
                usec_t scale = USEC_PER_SEC;
                p++;
                if (!isdigit((unsigned char)*p))
                        return -EINVAL;
                for (; isdigit((unsigned char)*p); p++)
                        if (scale >= 10) {
                                scale /= 10;
                                frac += (usec_t)(*p - '0') * scale;
                        }
        }
        if (*p == 'Z' || *p == 'z')
                p++;
        else if (*p == '+' || *p == '-') {
                int sign = *p++ == '-' ? -1 : 1;
                if (parse_digits(&p, 2, &oh) < 0 || *p++ != ':' || parse_digits(&p, 2, &om) < 0 || oh > 23 ||
                    om > 59)
                        return -EINVAL;
                offset = sign * (int64_t)(oh * 3600 + om * 60);
        } else
                return -EINVAL;
        if (*p != '\0')
                return -EINVAL;

        r = make_time(year, mon, day, h, m, sec, offset, &t);
        if (r < 0)
                return r;
        *ret = t + frac;
        return 0;
}

static int month_from_name(const char *name)
{
        static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

        for (size_t i = 0; i < ELEMENTSOF(months); i++)
                if (streq(name, months[i]))
                        return (int)i + 1;
        return -EINVAL;
}

static bool weekday_valid(const char *name, bool long_form)
{
        static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
        static const char *const long_days[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                "Friday", "Saturday", "Sunday"};

        for (size_t i = 0; i < ELEMENTSOF(days); i++)
                if (streq(name, long_form ? long_days[i] : days[i]))
                        return true;
        return false;
}

int http_date_parse(const char *s, usec_t *ret)
{
        unsigned day, year, h, m, sec;
        char wday[10], mon[4];
        int n = -1, month;

        if (!s)
                return -EINVAL;

        /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
        if (sscanf(s, "%3[A-Za-z], %2u %3[A-Za-z] %4u %2u:%2u:%2u GMT%n", wday, &day, mon, &year, &h, &m,
                   &sec, &n) == 7 &&
            n == (int)strlen(s) && weekday_valid(wday, false))
                goto done;
        /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
        n = -1;
        if (sscanf(s, "%9[A-Za-z], %2u-%3[A-Za-z]-%2u %2u:%2u:%2u GMT%n", wday, &day, mon, &year, &h, &m,
                   &sec, &n) == 7 &&
            n == (int)strlen(s) && weekday_valid(wday, true)) {
                year += year < 70 ? 2000 : 1900;
                goto done;
        }
        /* asctime: Sun Nov  6 08:49:37 1994 */
        n = -1;
        if (sscanf(s, "%3[A-Za-z] %3[A-Za-z] %2u %2u:%2u:%2u %4u%n", wday, mon, &day, &h, &m, &sec, &year,
                   &n) == 7 &&
            n == (int)strlen(s) && weekday_valid(wday, false))
                goto done;
        return -EINVAL;

done:
        month = month_from_name(mon);
        if (month < 0)
                return month;
        return make_time(year, (unsigned)month, day, h, m, sec, 0, ret);
}

int retry_after_parse(const char *value, usec_t now, usec_t *ret_delay)
{
        _cleanup_free_ char *v = NULL;
        size_t n;
        usec_t t;
        int r;

        if (!value)
                return -EINVAL;
        while (isspace((unsigned char)*value))
                value++;
        v = strdup(value);
        if (!v)
                return -ENOMEM;
        for (n = strlen(v); n > 0 && isspace((unsigned char)v[n - 1]); n--)
                v[n - 1] = '\0';
        if (n == 0)
                return -EINVAL;

        if (strspn(v, "0123456789") == n) {
                uint64_t secs = 0;
                for (const char *p = v; *p; p++)
                        if (__builtin_mul_overflow(secs, 10, &secs) ||
                            __builtin_add_overflow(secs, (uint64_t)(*p - '0'), &secs))
                                return -ERANGE;
                if (secs > UINT64_MAX / USEC_PER_SEC)
                        return -ERANGE;
                *ret_delay = secs * USEC_PER_SEC;
                return 0;
        }

        r = http_date_parse(v, &t);
        if (r < 0)
                return -EINVAL;
        *ret_delay = t > now ? t - now : 0;
        return 0;
}
