#pragma once
/* Event delivery: a bounded queue (and in host mode the spool) drained in gzip NDJSON batches to
 * POST /agent/events, at least once and in order, with backoff and every drop counted by cause. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "core/settings.h"
#include "ship/sink.h"
#include "util/macro.h"
#include "util/time-util.h"

struct ApiClient;
struct json_object;

typedef struct ShipperConfig {
        size_t batch_max_count;
        size_t batch_max_bytes; /* uncompressed NDJSON */
        usec_t batch_max_age;
        size_t queue_max_bytes;
        const char *spool_dir; /* NULL: memory only (ephemeral); copied */
        uint64_t spool_max_bytes;
        uint64_t spool_segment_bytes; /* 0: min(spool_max_bytes / 8, 4 MiB) */
        usec_t backoff_initial;
        usec_t backoff_max;
        usec_t request_timeout;
        int gzip_level; /* 1-9, -1 zlib's default */
} ShipperConfig;

/* The settings table's defaults (core/settings.h), in the units of ShipperConfig. */
#define SHIPPER_DEFAULT_BATCH_MAX_COUNT ((size_t)SETTING_DEFAULT_BATCH_MAX_EVENTS)
#define SHIPPER_DEFAULT_BATCH_MAX_BYTES ((size_t)SETTING_DEFAULT_BATCH_MAX_BYTES)
#define SHIPPER_DEFAULT_BATCH_MAX_AGE   (SETTING_DEFAULT_BATCH_MAX_AGE_MS * USEC_PER_MSEC)
#define SHIPPER_DEFAULT_QUEUE_MAX_BYTES ((size_t)SETTING_DEFAULT_QUEUE_MAX_BYTES)
#define SHIPPER_DEFAULT_SPOOL_MAX_BYTES ((uint64_t)SETTING_DEFAULT_SPOOL_MAX_BYTES)

void shipper_config_init(ShipperConfig *cfg);

typedef struct Shipper Shipper;

int shipper_new(Shipper **ret, sd_event *e, const ShipperConfig *cfg);
/* Host mode: what is still in memory (the batch in flight included) is written to the spool first, so
 * it is delivered after a restart. Free the ApiClient before this while a request may be pending: it
 * cancels without calling back, and a callback must not reach a freed shipper. */
Shipper *shipper_free(Shipper *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Shipper *, shipper_free);
/* The shipper as the agent's sink ("api"); sink_free() frees the shipper, and first says how many events
 * it loses when it has no spool to keep them in. */
Sink *shipper_as_sink(Shipper *s);

/* The mTLS client to send with (borrowed); NULL until enrolment completes: events wait, bounded. */
void shipper_set_api(Shipper *s, struct ApiClient *api);
/* One encoded event (a JSON line, newline optional) and its sequence number. Never blocks on the
 * network; when memory is full the oldest events are dropped (ephemeral) or spilled to disk (host). */
int shipper_submit(Shipper *s, uint64_t seq, const char *line, size_t size);
/* After a burst of submits: syncs the spool once and sends what is due. */
void shipper_kick(Shipper *s);

/* Sends what is queued now, whatever its age (the control API's Flush()): syncs the spool and sends
 * batches until memory is empty. A backoff in progress still holds. */
void shipper_flush(Shipper *s);
/* Shutdown: sends what is queued now, whatever its age, and calls `done` once, from the loop, when every
 * record submitted before this call has left memory (and the spool is empty). Records submitted later may
 * go out meanwhile but are not waited for. Returns 0 when there is nothing to send or no client to send it
 * with (`done` is not called), 1 when `done` will be. */
int shipper_drain(Shipper *s, SinkDrained done, void *userdata);
/* Whether records that outlive the process go to a spool (host mode) rather than being lost. */
bool shipper_has_spool(const Shipper *s);

void shipper_get_counters(const Shipper *s, SinkCounters *ret);
/* Adds the counters to a heartbeat object as "delivery": {seen, sent, queued, spooled, ..., dropped:
 * {ring_buffer, queue_full, spool_cap, corrupt_record, rejected}}. */
int shipper_counters_to_json(const SinkCounters *c, struct json_object *o);
