#pragma once
/* A bounded in-memory FIFO of encoded events, capped in bytes, dropping the oldest when full. Pure. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ship/batch.h"
#include "util/macro.h"

typedef struct EventQueue EventQueue;

/* max_bytes counts every record held, queued or taken (event_record_cost()). */
int event_queue_new(EventQueue **ret, size_t max_bytes);
EventQueue *event_queue_free(EventQueue *q);
DEFINE_TRIVIAL_CLEANUP_FUNC(EventQueue *, event_queue_free);

/* Whether a record of `size` bytes fits without dropping anything. */
bool event_queue_fits(const EventQueue *q, size_t size);
/* How far back a push looks to keep the queue sorted by sequence number. */
#define EVENT_QUEUE_REORDER_WINDOW 64

/* Appends a copy of the record, before any of the last EVENT_QUEUE_REORDER_WINDOW queued records that
 * carry a higher sequence number (records taken are past reordering). When it does not fit, the oldest
 * queued records are dropped until it does (taken records cannot be: they are in flight), and if that is not
 * enough the new record itself is dropped. Returns the number of records dropped (each counted in
 * event_queue_n_dropped()), -E2BIG for a record larger than the whole cap (dropped and counted too),
 * -ENOMEM. */
int event_queue_push(EventQueue *q, uint64_t seq, const void *data, size_t size, usec_t now);

/* Moves the oldest records, at most max_count and max_bytes (but at least one), into *ret (empty).
 * Returns the number taken. Until ack or nack they stay charged against the cap. */
size_t event_queue_take(EventQueue *q, size_t max_count, size_t max_bytes, EventBatch *ret);
/* The taken batch was delivered: frees its records. */
void event_queue_ack(EventQueue *q, EventBatch *b);
/* The taken batch was not delivered: its records go back to the front, in their order. */
void event_queue_nack(EventQueue *q, EventBatch *b);
/* Moves every queued record (not the taken ones) out, oldest first, e.g. to spill them to disk. */
int event_queue_drain(EventQueue *q, EventBatch *ret);
/* A batch taken earlier is no longer ours (spilled): stop charging it without freeing anything. */
void event_queue_forget(EventQueue *q, const EventBatch *b);

size_t event_queue_n_queued(const EventQueue *q);
size_t event_queue_bytes(const EventQueue *q); /* charged bytes, queued and taken */
size_t event_queue_max_bytes(const EventQueue *q);
/* Enqueue time of the oldest queued record, USEC_INFINITY when empty. */
usec_t event_queue_oldest(const EventQueue *q);
/* Uncompressed payload bytes of the queued records. */
size_t event_queue_payload_bytes(const EventQueue *q);
uint64_t event_queue_n_dropped(const EventQueue *q);
