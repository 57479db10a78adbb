#pragma once
/* Where encoded events go: one interface, implemented by the local output (output.h: stdout or a file)
 * and by the API shipper (shipper.h: memory queue, host spool, POST /agent/events). The manager holds one
 * Sink and never asks which it is; what differs between them is in the sink's operations and flags. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event-json.h"
#include "util/macro.h"
#include "util/strbuf.h"

struct ApiClient;

typedef enum DropCause {
        DROP_RING_BUFFER,    /* the kernel's ring buffer was full (filled in from the sensors' stats) */
        DROP_QUEUE_FULL,     /* ephemeral: the memory queue was full, the oldest went */
        DROP_SPOOL_CAP,      /* host: the spool reached its cap, its oldest segment went */
        DROP_CORRUPT_RECORD, /* host: a torn or corrupt spool record was skipped */
        DROP_REJECTED,       /* the backend refused the batch for good (400, 413, 415) */
        DROP_UNTRACKED,      /* the kernel had no memory to follow a syscall to its exit (sensors' stats) */
        _DROP_CAUSE_MAX,
        _DROP_CAUSE_INVALID = -EINVAL,
} DropCause;

const char *drop_cause_to_string(DropCause c);
DropCause drop_cause_from_string(const char *s);

typedef struct SinkCounters {
        uint64_t seen;        /* events handed to the sink */
        uint64_t sent;        /* events the backend accepted (202), or handed to the local output */
        uint64_t queued;      /* events in memory now, the batch in flight included */
        uint64_t queue_bytes; /* bytes the memory queue holds now (event_queue_bytes()) */
        uint64_t spooled;     /* events written to the spool since start */
        uint64_t spool_bytes; /* spool bytes not yet delivered */
        uint64_t batches;     /* batches accepted */
        uint64_t retries;     /* failed attempts that will be retried */
        uint64_t wire_bytes;  /* compressed bytes accepted */
        uint64_t dropped[_DROP_CAUSE_MAX];
} SinkCounters;

typedef struct Sink Sink;
typedef void (*SinkDrained)(void *userdata);

/* An implementation embeds `Sink` and fills in the operations it has; a NULL one does nothing. */
typedef struct SinkOps {
        /* Events leave the host: the agent needs an identity, and the delivery counters mean something. */
        bool remote;
        /* Encodes an event as this sink writes it; NULL: JSON (event_to_json()). */
        int (*encode)(Sink *s, const LgEvent *ev, const EventContext *ctx, StrBuf *out);
        int (*submit)(Sink *s, uint64_t seq, const char *line, size_t size);
        void (*batch_end)(Sink *s);
        int (*flush)(Sink *s);
        int (*drain)(Sink *s, SinkDrained done, void *userdata);
        int (*write_status)(Sink *s, const char *line, size_t size);
        int (*reopen)(Sink *s);
        int (*retarget)(Sink *s, const char *spec);
        void (*set_api)(Sink *s, struct ApiClient *api);
        void (*get_counters)(const Sink *s, SinkCounters *ret);
        const char *(*describe)(const Sink *s);
        void (*free)(Sink *s);
} SinkOps;

struct Sink {
        const SinkOps *ops;
};

/* Frees the implementation too (the shipper first spools what is left, in host mode). NULL-safe. */
Sink *sink_free(Sink *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Sink *, sink_free);

/* Appends the event to `out` as one line in the sink's format: JSON, or the local output's compact line
 * for a person (event-compact.h). Returns what the encoder returns. */
int sink_encode_event(Sink *s, const LgEvent *ev, const EventContext *ctx, StrBuf *out);
/* One encoded event (a complete line from sink_encode_event(), newline included) and its sequence number.
 * Never blocks on the network. */
int sink_submit(Sink *s, uint64_t seq, const char *line, size_t size);
/* After a burst of submits: the local output writes the burst with one write(2); the shipper syncs the
 * spool once and sends what is due. Failures are logged here, where the burst is dropped or kept. */
void sink_batch_end(Sink *s);
/* Sends or writes what is pending now, whatever its age (the control API's Flush()). */
int sink_flush(Sink *s);
/* Shutdown: returns 1 when `done` will be called, from the loop, once what was submitted before this has
 * left memory; 0 when there is nothing to wait for (written already, or kept in a spool for the next
 * start). */
int sink_drain(Sink *s, SinkDrained done, void *userdata);
/* A status record (a JSON object without the newline) in the event stream itself, written at once: a
 * local stream carries the heartbeat. Sinks with a channel of their own for status ignore it (0). */
int sink_write_status(Sink *s, const char *line, size_t size);
/* logrotate moved the file away: reopen it (SIGHUP). 0 where there is nothing to reopen. */
int sink_reopen(Sink *s);
/* Switches to another output spec in place, counters kept (reload); -EOPNOTSUPP when this sink cannot
 * become that one. */
int sink_retarget(Sink *s, const char *spec);
/* The mTLS client to deliver with (borrowed), NULL to pause. Ignored by local sinks. */
void sink_set_api(Sink *s, struct ApiClient *api);
void sink_get_counters(const Sink *s, SinkCounters *ret);
bool sink_is_remote(const Sink *s);
/* For the log and STATUS=: the path or "stdout". */
const char *sink_describe(const Sink *s);
