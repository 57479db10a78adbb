/* A ring of record pointers that grows by doubling: push at the tail, take and drop at the head, and a
 * nack pushes back at the head, so the order of a failed batch is kept without copying a byte. The cap is
 * charged per record (payload plus bookkeeping) and includes the batch in flight, so memory stays bounded
 * however long the backend is down.
 *
 * Sequence numbers are taken before a record enters the kernel's ring buffer, so two CPUs can commit
 * theirs in the opposite order: a push slides a record back past the few queued records with higher
 * numbers (a bounded window, so a counter that starts over is simply appended). */

#include "ship/event-queue.h"

struct EventQueue {
        EventRecord **ring;
        size_t allocated; /* a power of two, or 0 */
        size_t head;
        size_t n;

        size_t max_bytes;
        size_t charged;       /* queued and taken */
        size_t payload_bytes; /* queued only */
        uint64_t n_dropped;
};

int event_queue_new(EventQueue **ret, size_t max_bytes)
{
        EventQueue *q;

        if (!ret || max_bytes == 0)
                return -EINVAL;
        q = calloc(1, sizeof(EventQueue));
        if (!q)
                return -ENOMEM;
        q->max_bytes = max_bytes;
        *ret = q;
        return 0;
}

static EventRecord **slot(const EventQueue *q, size_t i)
{
        return &q->ring[(q->head + i) & (q->allocated - 1)];
}

EventQueue *event_queue_free(EventQueue *q)
{
        if (!q)
                return NULL;
        for (size_t i = 0; i < q->n; i++)
                free(*slot(q, i));
        free(q->ring);
        return mfree(q);
}

static int grow(EventQueue *q)
{
        size_t n = q->allocated ? q->allocated * 2 : 256;
        EventRecord **p;

        if (q->n < q->allocated)
                return 0;
        p = calloc(n, sizeof(EventRecord *));
        if (!p)
                return -ENOMEM;
        for (size_t i = 0; i < q->n; i++)
                p[i] = *slot(q, i);
        free(q->ring);
        q->ring = p;
        q->allocated = n;
        q->head = 0;
        return 0;
}

static EventRecord *pop_front(EventQueue *q)
{
        EventRecord *rec = *slot(q, 0);

        q->head = (q->head + 1) & (q->allocated - 1);
        q->n--;
        q->payload_bytes -= rec->size;
        return rec;
}

static void push_front(EventQueue *q, EventRecord *rec)
{
        /* grow() ran before: there is room. */
        q->head = (q->head + q->allocated - 1) & (q->allocated - 1);
        q->ring[q->head] = rec;
        q->n++;
        q->payload_bytes += rec->size;
}

bool event_queue_fits(const EventQueue *q, size_t size)
{
        size_t cost = event_record_cost(size);

        return cost <= q->max_bytes && q->charged <= q->max_bytes - cost;
}

static void drop_oldest(EventQueue *q)
{
        EventRecord *rec = pop_front(q);

        q->charged -= event_record_cost(rec->size);
        q->n_dropped++;
        free(rec);
}

int event_queue_push(EventQueue *q, uint64_t seq, const void *data, size_t size, usec_t now)
{
        EventRecord *rec;
        size_t pos;
        int dropped = 0, r;

        if (event_record_cost(size) > q->max_bytes) {
                q->n_dropped++;
                return -E2BIG;
        }
        while (!event_queue_fits(q, size) && q->n > 0) {
                drop_oldest(q);
                dropped++;
        }
        if (!event_queue_fits(q, size)) {
                /* Everything left is in flight. */
                q->n_dropped++;
                return dropped + 1;
        }
        r = grow(q);
        if (r < 0)
                return r;
        rec = event_record_new(seq, data, size, now);
        if (!rec)
                return -ENOMEM;
        pos = q->n;
        while (q->n - pos < EVENT_QUEUE_REORDER_WINDOW && pos > 0 && (*slot(q, pos - 1))->seq > seq)
                pos--;
        if (pos > 0 && (*slot(q, pos - 1))->seq > seq)
                pos = q->n; /* further back than a race can put it: the counter started over */
        for (size_t i = q->n; i > pos; i--)
                *slot(q, i) = *slot(q, i - 1);
        *slot(q, pos) = rec;
        q->n++;
        q->payload_bytes += size;
        q->charged += event_record_cost(size);
        return dropped;
}

size_t event_queue_take(EventQueue *q, size_t max_count, size_t max_bytes, EventBatch *ret)
{
        size_t taken = 0;

        while (q->n > 0 && taken < max_count) {
                EventRecord *rec = *slot(q, 0);

                if (taken > 0 && ret->bytes + rec->size > max_bytes)
                        break;
                if (event_batch_push(ret, rec) < 0)
                        break;
                (void)pop_front(q);
                taken++;
        }
        return taken;
}

void event_queue_forget(EventQueue *q, const EventBatch *b)
{
        for (size_t i = 0; i < b->n; i++)
                q->charged -= event_record_cost(b->records[i]->size);
}

void event_queue_ack(EventQueue *q, EventBatch *b)
{
        event_queue_forget(q, b);
        for (size_t i = 0; i < b->n; i++)
                free(b->records[i]);
        event_batch_clear(b);
}

void event_queue_nack(EventQueue *q, EventBatch *b)
{
        for (size_t i = b->n; i > 0; i--) {
                if (grow(q) < 0) {
                        /* No memory to put it back: the rest of the batch is lost, and counted. */
                        for (size_t j = 0; j < i; j++) {
                                q->charged -= event_record_cost(b->records[j]->size);
                                q->n_dropped++;
                                free(b->records[j]);
                        }
                        break;
                }
                push_front(q, b->records[i - 1]);
        }
        event_batch_clear(b);
}

int event_queue_drain(EventQueue *q, EventBatch *ret)
{
        while (q->n > 0) {
                EventRecord *rec = *slot(q, 0);
                int r = event_batch_push(ret, rec);

                if (r < 0)
                        return r;
                (void)pop_front(q);
                q->charged -= event_record_cost(rec->size);
        }
        return 0;
}

size_t event_queue_n_queued(const EventQueue *q)
{
        return q->n;
}

size_t event_queue_bytes(const EventQueue *q)
{
        return q->charged;
}

size_t event_queue_max_bytes(const EventQueue *q)
{
        return q->max_bytes;
}

usec_t event_queue_oldest(const EventQueue *q)
{
        return q->n > 0 ? (*slot(q, 0))->queued_usec : USEC_INFINITY;
}

size_t event_queue_payload_bytes(const EventQueue *q)
{
        return q->payload_bytes;
}

uint64_t event_queue_n_dropped(const EventQueue *q)
{
        return q->n_dropped;
}
