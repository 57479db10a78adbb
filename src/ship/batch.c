/* Batches are plain arrays of owned records: the queue hands its oldest records over by pointer, and the
 * spool reads copies, so a batch never shares memory with its source and an ack or a nack is a matter of
 * who frees or takes the pointers back. gzip uses deflateInit2() with windowBits 16 + 15, which makes
 * zlib write the RFC 1952 header and trailer itself. */

#include <zlib.h>

#include "ship/batch.h"

EventRecord *event_record_new(uint64_t seq, const void *data, size_t size, usec_t queued_usec)
{
        EventRecord *rec;

        if (size > SIZE_MAX - sizeof(EventRecord) - 1)
                return NULL;
        rec = malloc(sizeof(EventRecord) + size + 1);
        if (!rec)
                return NULL;
        rec->seq = seq;
        rec->queued_usec = queued_usec;
        rec->size = size;
        if (size > 0)
                memcpy(rec->data, data, size);
        rec->data[size] = '\0';
        return rec;
}

size_t event_record_cost(size_t size)
{
        return sizeof(EventRecord) + sizeof(EventRecord *) + size;
}

int event_batch_push(EventBatch *b, EventRecord *rec)
{
        if (!rec)
                return -EINVAL;
        if (b->n == b->allocated) {
                size_t n = b->allocated ? b->allocated * 2 : 64;
                EventRecord **p = reallocarray(b->records, n, sizeof(EventRecord *));

                if (!p)
                        return -ENOMEM;
                b->records = p;
                b->allocated = n;
        }
        b->records[b->n++] = rec;
        b->bytes += rec->size;
        return 0;
}

void event_batch_clear(EventBatch *b)
{
        b->n = 0;
        b->bytes = 0;
}

void event_batch_done(EventBatch *b)
{
        for (size_t i = 0; i < b->n; i++)
                free(b->records[i]);
        free(b->records);
        *b = (EventBatch){};
}

bool batch_due(const BatchLimits *l, size_t count, size_t bytes, usec_t oldest, usec_t now)
{
        if (count == 0)
                return false;
        if (count >= l->max_count || bytes >= l->max_bytes)
                return true;
        return now >= batch_deadline(l, oldest);
}

usec_t batch_deadline(const BatchLimits *l, usec_t oldest)
{
        if (l->max_age == USEC_INFINITY || oldest > USEC_INFINITY - l->max_age)
                return USEC_INFINITY;
        return oldest + l->max_age;
}

static bool record_has_newline(const EventRecord *rec)
{
        return rec->size > 0 && rec->data[rec->size - 1] == '\n';
}

int batch_encode_ndjson(const EventBatch *b, char **ret, size_t *ret_size)
{
        size_t size = 0, off = 0;
        char *out;

        for (size_t i = 0; i < b->n; i++)
                size += b->records[i]->size + !record_has_newline(b->records[i]);
        out = malloc(size + 1);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < b->n; i++) {
                const EventRecord *rec = b->records[i];

                memcpy(out + off, rec->data, rec->size);
                off += rec->size;
                if (!record_has_newline(rec))
                        out[off++] = '\n';
        }
        out[off] = '\0';
        *ret = out;
        *ret_size = off;
        return 0;
}

int gzip_compress(const void *data, size_t size, int level, void **ret, size_t *ret_size)
{
        z_stream z = {};
        _cleanup_free_ void *out = NULL;
        uLong bound, total;
        int zr;

        if ((!data && size > 0) || size > UINT_MAX || level < -1 || level > 9)
                return -EINVAL;
        if (deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
                return -ENOMEM;
        /* deflateBound() does not count the gzip wrapper: 18 bytes of header and trailer. */
        bound = deflateBound(&z, (uLong)size) + 18;
        out = malloc(bound);
        if (!out) {
                deflateEnd(&z);
                return -ENOMEM;
        }
        z.next_in = (Bytef *)data;
        z.avail_in = (uInt)size;
        z.next_out = out;
        z.avail_out = (uInt)bound;
        zr = deflate(&z, Z_FINISH);
        total = z.total_out;
        deflateEnd(&z);
        if (zr != Z_STREAM_END)
                return -EIO;
        *ret = TAKE_PTR(out);
        *ret_size = total;
        return 0;
}

int batch_encode_gzip(const EventBatch *b, int level, void **ret, size_t *ret_size)
{
        _cleanup_free_ char *ndjson = NULL;
        size_t size;
        int r;

        r = batch_encode_ndjson(b, &ndjson, &size);
        if (r < 0)
                return r;
        return gzip_compress(ndjson, size, level, ret, ret_size);
}
