#pragma once
/* Pure encoder of decoded sensor events to one OCSF 1.1.0 JSON line each (see linuxguard-events(7));
 * tests/ocsf/ocsf-check.py validates its output. */

#include <stddef.h>
#include <stdint.h>

#include "core/event-decode.h"
#include "util/strbuf.h"

#define EVENT_OCSF_VERSION "1.1.0"

typedef struct EventContext {
        int64_t boot_to_realtime_ns; /* added to a record's CLOCK_BOOTTIME stamp gives CLOCK_REALTIME */
        const char *hostname;        /* device.hostname (or .name); OCSF requires device in the System
                                      * Activity classes, so NULL (device omitted) is for tests only */
        const char *product_version; /* metadata.product.version; omitted when NULL */
        const char *stream_id;       /* metadata.correlation_uid: names one load of the programs, the
                                      * sequence numbers' scope; omitted when NULL */
        /* What a process cache knows about the actor of a non-exec event; omitted when NULL. */
        const char *actor_cmd_line;
        const char *actor_exe;
} EventContext;

/* Appends the event as one JSON object and a newline to out. Returns 0, -EINVAL for an event of unknown
 * type (nothing appended) or -ENOMEM. Allocates only when out must grow. */
int event_to_json(const LgEvent *ev, const EventContext *ctx, StrBuf *out);

/* Appends s[0..n) as a JSON string with quotes: control characters, quotes and backslashes escaped, each
 * byte that is not part of valid UTF-8 replaced by U+FFFD. */
void json_put_string(StrBuf *out, const char *s, size_t n);

/* Length of the valid UTF-8 sequence at s (n > 0 bytes available), 0 if invalid: no overlongs, no
 * surrogates, nothing above U+10FFFF. */
size_t utf8_sequence_len(const unsigned char *s, size_t n);
/* "setuid", "capset", ...; NULL for 0 (the process connector's uid change) or an unknown op. */
const char *event_cred_op_to_string(unsigned op);

/* The OCSF class and activity an event maps to. */
int event_ocsf_class(const LgEvent *ev, unsigned *ret_class_uid, unsigned *ret_activity_id);
