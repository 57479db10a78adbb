#pragma once
/* The host-mode on-disk spool: append-only segment files of checksummed records, read oldest first from
 * a persisted cursor, capped in bytes. Crash-safe: a torn or corrupt record is skipped and counted. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ship/batch.h"
#include "util/macro.h"

#define SPOOL_RECORD_MAX (16U * 1024U * 1024U)

typedef struct Spool Spool;

typedef struct SpoolConfig {
        uint64_t max_bytes;     /* all segment files together; reaching it drops the oldest segment */
        uint64_t segment_bytes; /* a segment is closed and a new one started past this size */
} SpoolConfig;

typedef struct SpoolStats {
        uint64_t appended;        /* records written since open */
        uint64_t dropped_cap;     /* records lost with segments dropped for the cap */
        uint64_t corrupt_records; /* torn or corrupt records skipped (one per damaged run) */
        uint64_t bytes;           /* size of all segment files */
        uint64_t pending_bytes;   /* bytes from the cursor to the end */
        unsigned segments;
} SpoolStats;

/* Opens (creating it, mode 0700) the spool directory. The cursor and the segments of an earlier run are
 * picked up; appends always go to a new segment, never after what a crash left behind. */
int spool_open(Spool **ret, const char *dir, const SpoolConfig *cfg);
/* Syncs what was appended and closes. NULL-safe. */
Spool *spool_free(Spool *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Spool *, spool_free);

/* Appends one record with a single write. Not durable before spool_sync(). Drops the oldest segments
 * when the cap would be crossed (counted in dropped_cap); -E2BIG for a record that can never fit. */
int spool_append(Spool *s, uint64_t seq, const void *data, size_t size);
/* fsync of the current segment (and of the directory after a new segment was created). The policy is
 * the caller's: the shipper syncs once per batch of appends. */
int spool_sync(Spool *s);

/* Reads the oldest unacknowledged records, at most max_count and max_bytes (but at least one), into
 * *ret without consuming them; skipped damage is counted and logged. Returns the number read; 0 means
 * the spool is empty. */
int spool_read(Spool *s, size_t max_count, size_t max_bytes, EventBatch *ret);
/* Consumes what the last spool_read() returned: the cursor is replaced atomically (temporary file,
 * fsync, rename) and segments read to their end are deleted. */
int spool_ack(Spool *s);

bool spool_is_empty(const Spool *s);
void spool_get_stats(const Spool *s, SpoolStats *ret);
