#pragma once
/* Event batches for delivery: records keyed by sequence number, the send-now decision, NDJSON + gzip. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/macro.h"
#include "util/time-util.h"

/* One encoded event: a JSON object, with or without its trailing newline. */
typedef struct EventRecord {
        uint64_t seq;
        usec_t queued_usec; /* CLOCK_MONOTONIC when it entered the agent's buffers, 0 if unknown */
        size_t size;
        char data[];
} EventRecord;

/* An ordered run of records, oldest first; owns them. Zero-initialise ({}) for an empty batch. */
typedef struct EventBatch {
        EventRecord **records;
        size_t n;
        size_t allocated;
        size_t bytes; /* sum of the records' sizes */
} EventBatch;

typedef struct BatchLimits {
        size_t max_count; /* >= 1 */
        size_t max_bytes; /* uncompressed NDJSON; a single larger record still goes alone */
        usec_t max_age;   /* the oldest record waits at most this long for company */
} BatchLimits;

EventRecord *event_record_new(uint64_t seq, const void *data, size_t size, usec_t queued_usec);
/* Bytes a record is charged for in the memory cap: payload plus bookkeeping. */
size_t event_record_cost(size_t size);

/* Appends a record (ownership moves to the batch). -ENOMEM leaves the record with the caller. */
int event_batch_push(EventBatch *b, EventRecord *rec);
/* Frees the records, keeps nothing. */
void event_batch_done(EventBatch *b);
/* Moves the records out, leaving the batch empty (the array stays with the batch). */
void event_batch_clear(EventBatch *b);

/* Whether `count` records of `bytes` bytes, the oldest queued at `oldest`, should leave now. */
bool batch_due(const BatchLimits *l, size_t count, size_t bytes, usec_t oldest, usec_t now);
/* When a batch that is not due yet becomes due by age. */
usec_t batch_deadline(const BatchLimits *l, usec_t oldest);

/* NDJSON: each record followed by exactly one newline. */
int batch_encode_ndjson(const EventBatch *b, char **ret, size_t *ret_size);
/* RFC 1952 gzip of a buffer (zlib deflate with a gzip header); level 0-9, or -1 for zlib's default. */
int gzip_compress(const void *data, size_t size, int level, void **ret, size_t *ret_size);
/* NDJSON then gzip, the body of POST /agent/events with Content-Encoding: gzip. */
int batch_encode_gzip(const EventBatch *b, int level, void **ret, size_t *ret_size);
