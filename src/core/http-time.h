#pragma once
/* Parsers of the time formats on the wire: Retry-After, HTTP dates, RFC 3339. */

#include "util/time-util.h"

/* Retry-After as a delay: delta-seconds, or an HTTP-date (IMF-fixdate, RFC 850, asctime) relative to
 * `now` (CLOCK_REALTIME usec); a date in the past is 0. -EINVAL if it is neither. */
int retry_after_parse(const char *value, usec_t now, usec_t *ret_delay);
int http_date_parse(const char *s, usec_t *ret);
/* An RFC 3339 timestamp ("2025-01-02T03:04:05.678Z", "...+02:00") as CLOCK_REALTIME usec. */
int rfc3339_parse(const char *s, usec_t *ret);
