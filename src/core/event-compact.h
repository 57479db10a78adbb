#pragma once
/* Pure encoder of decoded sensor events to one short line each, for a person at a terminal; JSON
 * (event-json.h) stays the format for files and the API. See linuxguard-events(7), "Compact output". */

#include <stdbool.h>
#include <stdint.h>

#include "core/event-json.h"
#include "util/strbuf.h"

typedef struct CompactStyle {
        bool color;           /* ANSI colours: a terminal, and NO_COLOR not set */
        int64_t utc_offset_s; /* the local zone's offset from UTC, for the HH:MM:SS column */
} CompactStyle;

/* What a heartbeat record says, as the compact line shows it. */
typedef struct CompactStatus {
        int64_t time_ms; /* CLOCK_REALTIME, milliseconds */
        const char *mode;
        uint64_t uptime_s;
        uint64_t events;
        uint64_t ring_drops;
        const char *degraded; /* the degraded reason, NULL when the sensors run */
} CompactStatus;

/* Appends one line and a newline, e.g. "12:01:04 open  cat[4133] /etc/shadow (read)". Bytes a terminal
 * would interpret (control characters, invalid UTF-8) are written as \xNN. Returns 0, -EINVAL for an
 * event of unknown type or operation (nothing appended), or -ENOMEM. */
int event_to_compact(const LgEvent *ev, const EventContext *ctx, const CompactStyle *style, StrBuf *out);
/* "12:01:05 status host, up 35s, 1234 events, 0 lost", and the degraded reason. 0 or -ENOMEM. */
int status_to_compact(const CompactStatus *st, const CompactStyle *style, StrBuf *out);
