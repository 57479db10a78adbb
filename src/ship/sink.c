/* The sink interface: dispatch to the implementation, with the default of an operation it lacks. */

#include "ship/sink.h"

#include <assert.h>

static const char *const drop_cause_table[_DROP_CAUSE_MAX] = {
        [DROP_RING_BUFFER] = "ring_buffer", [DROP_QUEUE_FULL] = "queue_full",
        [DROP_SPOOL_CAP] = "spool_cap",     [DROP_CORRUPT_RECORD] = "corrupt_record",
        [DROP_REJECTED] = "rejected",       [DROP_UNTRACKED] = "untracked",
};

const char *drop_cause_to_string(DropCause c)
{
        return c >= 0 && c < _DROP_CAUSE_MAX ? drop_cause_table[c] : NULL;
}

DropCause drop_cause_from_string(const char *s)
{
        for (DropCause i = 0; s && i < _DROP_CAUSE_MAX; i++)
                if (streq(drop_cause_table[i], s))
                        return i;
        return _DROP_CAUSE_INVALID;
}

Sink *sink_free(Sink *s)
{
        if (s)
                s->ops->free(s);
        return NULL;
}

int sink_encode_event(Sink *s, const LgEvent *ev, const EventContext *ctx, StrBuf *out)
{
        assert(s && ev && ctx && out);
        if (s->ops->encode)
                return s->ops->encode(s, ev, ctx, out);
        return event_to_json(ev, ctx, out);
}

int sink_submit(Sink *s, uint64_t seq, const char *line, size_t size)
{
        assert(s && line);
        return s->ops->submit(s, seq, line, size);
}

void sink_batch_end(Sink *s)
{
        assert(s);
        if (s->ops->batch_end)
                s->ops->batch_end(s);
}

int sink_flush(Sink *s)
{
        assert(s);
        return s->ops->flush ? s->ops->flush(s) : 0;
}

int sink_drain(Sink *s, SinkDrained done, void *userdata)
{
        assert(s && done);
        return s->ops->drain ? s->ops->drain(s, done, userdata) : 0;
}

int sink_write_status(Sink *s, const char *line, size_t size)
{
        assert(s && line);
        return s->ops->write_status ? s->ops->write_status(s, line, size) : 0;
}

int sink_reopen(Sink *s)
{
        assert(s);
        return s->ops->reopen ? s->ops->reopen(s) : 0;
}

int sink_retarget(Sink *s, const char *spec)
{
        assert(s && spec);
        return s->ops->retarget ? s->ops->retarget(s, spec) : -EOPNOTSUPP;
}

void sink_set_api(Sink *s, struct ApiClient *api)
{
        assert(s);
        if (s->ops->set_api)
                s->ops->set_api(s, api);
}

void sink_get_counters(const Sink *s, SinkCounters *ret)
{
        assert(s && ret);
        s->ops->get_counters(s, ret);
}

bool sink_is_remote(const Sink *s)
{
        assert(s);
        return s->ops->remote;
}

const char *sink_describe(const Sink *s)
{
        assert(s);
        return s->ops->describe(s);
}
