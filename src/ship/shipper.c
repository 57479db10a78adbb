/* The shipper.
 *
 * One batch is in flight at a time, which is what keeps delivery in order per agent; a failed batch is
 * kept and sent again as it is, so the backend sees the same records until it answers 202. Batches
 * leave when they are full (count or bytes) or when their oldest record has waited max_age.
 *
 * Host mode keeps one invariant: everything in memory is older than everything in the spool. Records go
 * to the queue only while the spool is empty; the moment the queue is full, the backend fails, or the
 * agent stops, the whole queue (and the batch in flight) is spilled to the spool, and from then on new
 * records go to the spool too, until it has been delivered. So delivery is simply memory first, then the
 * spool, oldest first, and a restart resumes from the spool. Spilling a batch that is still in flight
 * may deliver it twice; the backend de-duplicates by sequence number (at least once, never lost).
 *
 * The spool is synced once per burst of submits (shipper_kick()), i.e. per sensor batch: a crash loses
 * at most what the last burst wrote and the up to max_age of events still in memory. */

#include <inttypes.h>
#include <json-c/json.h>

#include "core/backoff.h"
#include "core/enroll-proto.h"
#include "core/http-time.h"
#include "net/api-client.h"
#include "ship/batch.h"
#include "ship/event-queue.h"
#include "ship/shipper.h"
#include "ship/spool.h"
#include "util/log.h"

#define SPOOL_SEGMENT_DEFAULT (4U * 1024U * 1024U)

typedef enum BatchSource {
        SOURCE_NONE,
        SOURCE_QUEUE,
        SOURCE_SPOOL,
} BatchSource;

struct Shipper {
        Sink sink;
        sd_event *event;
        sd_event_source *send_timer;
        ShipperConfig config;
        char *spool_dir;
        BatchLimits limits;

        struct ApiClient *api;
        EventQueue *queue;
        Spool *spool;
        bool spilling; /* host: new records go to the spool until it is delivered */
        bool spool_dirty;

        EventBatch inflight;
        BatchSource inflight_source;
        bool inflight_spilled; /* already copied to the spool: free it whatever the answer */
        bool request_pending;
        void *body; /* gzip of the batch in flight, kept for retries */
        size_t body_size;

        Backoff backoff;
        usec_t not_before; /* backing off until then */
        bool failing;

        bool flushing; /* shipper_flush(): whatever is queued is due, until memory is empty */
        SinkDrained drained;
        void *drained_userdata;
        usec_t drain_since; /* shipper_drain(): what was queued before this must leave */

        SinkCounters counters;
};

void shipper_config_init(ShipperConfig *cfg)
{
        *cfg = (ShipperConfig){
                .batch_max_count = SHIPPER_DEFAULT_BATCH_MAX_COUNT,
                .batch_max_bytes = SHIPPER_DEFAULT_BATCH_MAX_BYTES,
                .batch_max_age = SHIPPER_DEFAULT_BATCH_MAX_AGE,
                .queue_max_bytes = SHIPPER_DEFAULT_QUEUE_MAX_BYTES,
                .spool_max_bytes = SHIPPER_DEFAULT_SPOOL_MAX_BYTES,
                .backoff_initial = 500 * USEC_PER_MSEC,
                .backoff_max = 60 * USEC_PER_SEC,
                .request_timeout = 30 * USEC_PER_SEC,
                .gzip_level = 6,
        };
}

static void shipper_try_send(Shipper *s);

static int on_send_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
        shipper_try_send(userdata);
        return 0;
}

/* Wakes the sender at `when` (not before the backoff allows); an earlier wake-up already set stays. */
static void shipper_schedule(Shipper *s, usec_t when)
{
        uint64_t current;
        int enabled = 0, r;

        if (when < s->not_before)
                when = s->not_before;
        if (when == USEC_INFINITY)
                return;
        (void)sd_event_source_get_enabled(s->send_timer, &enabled);
        if (enabled && sd_event_source_get_time(s->send_timer, &current) >= 0 && current <= when)
                return;
        r = sd_event_source_set_time(s->send_timer, when);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->send_timer, SD_EVENT_ONESHOT);
        /* -ESTALE: the loop is exiting, and the shipper with it. */
        if (r < 0 && r != -ESTALE)
                log_warning_errno(r, "Failed to arm the event shipper's timer: %m");
}

int shipper_new(Shipper **ret, sd_event *e, const ShipperConfig *cfg)
{
        _cleanup_(shipper_freep) Shipper *s = NULL;
        int r;

        if (!ret || !e || !cfg || cfg->batch_max_count == 0 || cfg->batch_max_bytes == 0)
                return -EINVAL;
        s = calloc(1, sizeof(Shipper));
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(e);
        s->config = *cfg;
        s->limits = (BatchLimits){cfg->batch_max_count, cfg->batch_max_bytes, cfg->batch_max_age};
        s->backoff = (Backoff){
                .initial = cfg->backoff_initial,
                .max = cfg->backoff_max,
                .multiplier = 2.0,
                .give_up = USEC_INFINITY,
                .jitter = BACKOFF_JITTER_FULL,
                .random = backoff_random,
        };
        backoff_start(&s->backoff, now(CLOCK_MONOTONIC));

        r = event_queue_new(&s->queue, cfg->queue_max_bytes);
        if (r < 0)
                return r;
        if (cfg->spool_dir) {
                SpoolConfig sc = {
                        .max_bytes = cfg->spool_max_bytes,
                        .segment_bytes = cfg->spool_segment_bytes ?: cfg->spool_max_bytes / 8,
                };

                if (sc.segment_bytes > SPOOL_SEGMENT_DEFAULT)
                        sc.segment_bytes = SPOOL_SEGMENT_DEFAULT;
                s->spool_dir = strdup(cfg->spool_dir);
                if (!s->spool_dir)
                        return -ENOMEM;
                s->config.spool_dir = s->spool_dir;
                r = spool_open(&s->spool, s->spool_dir, &sc);
                if (r < 0)
                        return log_debug_errno(r, "Failed to open the spool %s: %m", s->spool_dir);
                /* Whatever an earlier run left is older than anything this run will see. */
                s->spilling = !spool_is_empty(s->spool);
                if (s->spilling)
                        log_info("Resuming delivery of the spool in %s.", s->spool_dir);
        }

        r = sd_event_add_time(e, &s->send_timer, CLOCK_MONOTONIC, USEC_INFINITY, USEC_PER_MSEC,
                              on_send_timer, s);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(s->send_timer, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_source_set_description(s->send_timer, "shipper-send");
        if (r < 0)
                return r;

        *ret = TAKE_PTR(s);
        return 0;
}

/* --- the spool side (host mode) --- */

static int spool_write_batch(Shipper *s, const EventBatch *b)
{
        int r;

        for (size_t i = 0; i < b->n; i++) {
                r = spool_append(s->spool, b->records[i]->seq, b->records[i]->data, b->records[i]->size);
                if (r == -E2BIG)
                        continue; /* counted by the spool */
                if (r < 0)
                        return r;
                s->counters.spooled++;
                s->spool_dirty = true;
        }
        return 0;
}

/* Moves everything in memory to the spool, oldest first: the batch in flight, then the queue. */
static int shipper_spill(Shipper *s)
{
        _cleanup_(event_batch_done) EventBatch queued = {};
        int r;

        if (!s->spool)
                return 0;
        if (event_queue_n_queued(s->queue) == 0 &&
            (s->inflight_source != SOURCE_QUEUE || s->inflight_spilled))
                return 0;
        if (!s->spilling)
                log_info("Spilling %zu queued events to the spool.",
                         event_queue_n_queued(s->queue) + (s->inflight_spilled ? 0 : s->inflight.n));
        s->spilling = true;
        if (s->inflight_source == SOURCE_QUEUE && !s->inflight_spilled) {
                r = spool_write_batch(s, &s->inflight);
                if (r < 0)
                        return r;
                event_queue_forget(s->queue, &s->inflight);
                s->inflight_spilled = true;
        }
        r = event_queue_drain(s->queue, &queued);
        if (r >= 0)
                r = spool_write_batch(s, &queued);
        if (r < 0)
                return r;
        s->spool_dirty = false;
        return spool_sync(s->spool);
}

Shipper *shipper_free(Shipper *s)
{
        int r;

        if (!s)
                return NULL;
        if (s->spool) {
                r = shipper_spill(s);
                if (r < 0)
                        log_warning_errno(r, "Failed to write queued events to the spool, losing them: %m");
        }
        sd_event_source_disable_unref(s->send_timer);
        if (s->inflight_source == SOURCE_QUEUE && !s->inflight_spilled)
                event_queue_ack(s->queue, &s->inflight);
        event_batch_done(&s->inflight);
        free(s->body);
        event_queue_free(s->queue);
        spool_free(s->spool);
        free(s->spool_dir);
        sd_event_unref(s->event);
        return mfree(s);
}

/* --- submitting --- */

int shipper_submit(Shipper *s, uint64_t seq, const char *line, size_t size)
{
        int r;

        s->counters.seen++;
        if (s->spool && !s->spilling && !event_queue_fits(s->queue, size)) {
                r = shipper_spill(s);
                if (r < 0)
                        log_warning_errno(r, "Failed to spill events to the spool: %m");
        }
        if (s->spool && s->spilling) {
                r = spool_append(s->spool, seq, line, size);
                if (r >= 0) {
                        s->counters.spooled++;
                        s->spool_dirty = true;
                        return 0;
                }
                if (r == -E2BIG)
                        return r;
                /* The disk failed us: memory is better than nothing, and bounded. */
                log_warning_errno(r, "Failed to write an event to the spool, queueing it in memory: %m");
        }
        r = event_queue_push(s->queue, seq, line, size, now(CLOCK_MONOTONIC));
        return r < 0 ? r : 0;
}

void shipper_kick(Shipper *s)
{
        int r;

        if (s->spool_dirty) {
                r = spool_sync(s->spool);
                if (r < 0)
                        log_warning_errno(r, "Failed to sync the spool, ignoring: %m");
                s->spool_dirty = false;
        }
        shipper_try_send(s);
}

void shipper_set_api(Shipper *s, struct ApiClient *api)
{
        s->api = api;
        if (api)
                shipper_schedule(s, now(CLOCK_MONOTONIC));
}

/* --- sending --- */

static void shipper_release_inflight(Shipper *s, bool delivered)
{
        int r;

        if (s->inflight_spilled || s->inflight_source == SOURCE_SPOOL)
                event_batch_done(&s->inflight);
        else if (delivered)
                event_queue_ack(s->queue, &s->inflight);
        else
                event_queue_nack(s->queue, &s->inflight);
        if (delivered && s->inflight_source == SOURCE_SPOOL) {
                r = spool_ack(s->spool);
                if (r < 0)
                        log_warning_errno(r, "Failed to advance the spool cursor, the batch may be sent "
                                             "again: %m");
        }
        if (s->spilling && spool_is_empty(s->spool)) {
                log_info("Spool delivered, queueing in memory again.");
                s->spilling = false;
        }
        s->inflight_source = SOURCE_NONE;
        s->inflight_spilled = false;
        s->body = mfree(s->body);
        s->body_size = 0;
}

/* Fills the batch in flight: memory first (it is older), then the spool. 0 when nothing is due. */
static int shipper_fill(Shipper *s, usec_t t)
{
        int r;

        if (event_queue_n_queued(s->queue) > 0) {
                usec_t oldest = event_queue_oldest(s->queue);

                if (!s->flushing && !batch_due(&s->limits, event_queue_n_queued(s->queue),
                                               event_queue_payload_bytes(s->queue), oldest, t)) {
                        shipper_schedule(s, batch_deadline(&s->limits, oldest));
                        return 0;
                }
                event_queue_take(s->queue, s->limits.max_count, s->limits.max_bytes, &s->inflight);
                s->inflight_source = SOURCE_QUEUE;
        } else if (s->spool && !spool_is_empty(s->spool)) {
                s->inflight_source = SOURCE_SPOOL;
                r = spool_read(s->spool, s->limits.max_count, s->limits.max_bytes, &s->inflight);
                if (r <= 0)
                        return r;
        } else
                return 0;

        return batch_encode_gzip(&s->inflight, s->config.gzip_level, &s->body, &s->body_size);
}

static void on_events_done(int r, long status, const char *body, size_t body_size, const char *error_text,
                           void *userdata);

/* Answers that no retry can change: the batch is dropped and counted. 401/403 are not among them: a
 * renewed certificate fixes those. */
static bool status_is_final_refusal(long status)
{
        return status == 400 || status == 413 || status == 415;
}

static void shipper_retry(Shipper *s, const char *why, const char *retry_after_header)
{
        usec_t t = now(CLOCK_MONOTONIC), retry_after = 0, delay = 0;
        int r;

        s->counters.retries++;
        if (retry_after_header)
                (void)retry_after_parse(retry_after_header, now(CLOCK_REALTIME), &retry_after);
        r = backoff_next(&s->backoff, t, retry_after, &delay);
        if (r < 0)
                delay = s->config.backoff_max;
        if (!s->failing)
                log_warning("Delivering %zu events failed (%s), retrying in %" PRIu64 " ms.", s->inflight.n,
                            why, delay / USEC_PER_MSEC);
        else
                log_debug("Delivery attempt failed again (%s), retrying in %" PRIu64 " ms.", why,
                          delay / USEC_PER_MSEC);
        s->failing = true;
        s->not_before = t + delay;
        /* Host mode: an unreachable backend is the moment to make memory durable. */
        if (s->spool) {
                r = shipper_spill(s);
                if (r < 0)
                        log_warning_errno(r, "Failed to spill events to the spool: %m");
                /* The spilled batch is now the spool's first: retry from there, not twice. */
                if (s->inflight_spilled)
                        shipper_release_inflight(s, false);
        }
        shipper_schedule(s, s->not_before);
}

/* Everything queued before shipper_drain() has left: nothing in flight, and the oldest record in memory
 * (if any) came later. Records keep coming meanwhile on a busy host; they do not hold the exit up. */
static bool shipper_is_drained(const Shipper *s)
{
        return s->inflight.n == 0 && event_queue_oldest(s->queue) > s->drain_since &&
               (!s->spool || spool_is_empty(s->spool));
}

static void shipper_drain_done(Shipper *s)
{
        SinkDrained done = s->drained;

        s->drained = NULL;
        done(s->drained_userdata);
}

static void shipper_try_send(Shipper *s)
{
        usec_t t = now(CLOCK_MONOTONIC);
        ApiRequest req;
        static const char *const headers[] = {"Content-Encoding: gzip", NULL};
        int r;

        if (!s->api || s->request_pending)
                return;
        if (t < s->not_before)
                return shipper_schedule(s, s->not_before);
        if (s->inflight.n == 0) {
                if (s->drained && shipper_is_drained(s))
                        return shipper_drain_done(s);
                r = shipper_fill(s, t);
                if (r < 0) {
                        log_warning_errno(r, "Failed to prepare a batch of events: %m");
                        if (s->inflight.n > 0)
                                shipper_release_inflight(s, false);
                        s->not_before = t + s->config.backoff_initial;
                        return shipper_schedule(s, s->not_before);
                }
                if (s->inflight.n == 0) {
                        /* A flush ends when memory is empty; otherwise the batch is not due yet. */
                        if (event_queue_n_queued(s->queue) == 0)
                                s->flushing = false;
                        return;
                }
        }

        req = (ApiRequest){
                .path = "/agent/events",
                .body = s->body,
                .body_size = s->body_size,
                .content_type = "application/x-ndjson",
                .extra_headers = headers,
                .timeout_usec = s->config.request_timeout,
        };
        r = api_client_post(s->api, &req, on_events_done, s);
        if (r < 0)
                return shipper_retry(s, strerror(-r), NULL);
        s->request_pending = true;
}

static void shipper_delivered(Shipper *s, long status)
{
        if (s->failing)
                log_info("Event delivery recovered after %u failed attempts.", s->backoff.attempts);
        s->failing = false;
        s->not_before = 0;
        backoff_start(&s->backoff, now(CLOCK_MONOTONIC));
        s->counters.sent += s->inflight.n;
        s->counters.batches++;
        s->counters.wire_bytes += s->body_size;
        log_debug("Delivered %zu events (%zu bytes gzip), HTTP %ld.", s->inflight.n, s->body_size, status);
        shipper_release_inflight(s, true);
}

static void on_events_done(int r, long status, const char *body, size_t body_size, const char *error_text,
                           void *userdata)
{
        Shipper *s = userdata;
        _cleanup_free_ char *text = NULL;

        s->request_pending = false;
        if (r < 0)
                return shipper_retry(s, error_text ?: strerror(-r), NULL);
        if (status >= 200 && status < 300)
                shipper_delivered(s, status);
        else if (status_is_final_refusal(status)) {
                text = enroll_error_text(status, body, body_size);
                log_error("The backend refused %zu events for good (HTTP %ld: %s), dropping them.",
                          s->inflight.n, status, strna(text));
                s->counters.dropped[DROP_REJECTED] += s->inflight.n;
                shipper_release_inflight(s, true);
        } else {
                text = enroll_error_text(status, body, body_size);
                return shipper_retry(s, strna(text), api_client_retry_after(s->api));
        }
        /* Not from inside the transfer's callback: the timer starts the next batch. */
        shipper_schedule(s, now(CLOCK_MONOTONIC));
}

void shipper_flush(Shipper *s)
{
        s->flushing = true;
        shipper_kick(s);
}

int shipper_drain(Shipper *s, SinkDrained done, void *userdata)
{
        s->drain_since = now(CLOCK_MONOTONIC);
        if (!s->api || shipper_is_drained(s))
                return 0;
        s->drained = done;
        s->drained_userdata = userdata;
        s->flushing = true;
        /* From the loop, not from here: `done` may end it, and the caller is still deciding. */
        shipper_schedule(s, s->drain_since);
        return 1;
}

bool shipper_has_spool(const Shipper *s)
{
        return s->spool;
}

void shipper_get_counters(const Shipper *s, SinkCounters *ret)
{
        *ret = s->counters;
        ret->queued =
                event_queue_n_queued(s->queue) + (s->inflight_source == SOURCE_QUEUE ? s->inflight.n : 0);
        ret->queue_bytes = event_queue_bytes(s->queue);
        ret->dropped[DROP_QUEUE_FULL] = event_queue_n_dropped(s->queue);
        if (s->spool) {
                SpoolStats st;

                spool_get_stats(s->spool, &st);
                ret->spool_bytes = st.pending_bytes;
                ret->dropped[DROP_SPOOL_CAP] = st.dropped_cap;
                ret->dropped[DROP_CORRUPT_RECORD] = st.corrupt_records;
        }
}

int shipper_counters_to_json(const SinkCounters *c, struct json_object *o)
{
        json_object *d = json_object_new_object(), *dropped = json_object_new_object();

        if (!d || !dropped) {
                json_object_put(d);
                json_object_put(dropped);
                return -ENOMEM;
        }
        json_object_object_add(d, "seen", json_object_new_uint64(c->seen));
        json_object_object_add(d, "sent", json_object_new_uint64(c->sent));
        json_object_object_add(d, "queued", json_object_new_uint64(c->queued));
        json_object_object_add(d, "spooled", json_object_new_uint64(c->spooled));
        json_object_object_add(d, "spoolBytes", json_object_new_uint64(c->spool_bytes));
        json_object_object_add(d, "batches", json_object_new_uint64(c->batches));
        json_object_object_add(d, "retries", json_object_new_uint64(c->retries));
        json_object_object_add(d, "wireBytes", json_object_new_uint64(c->wire_bytes));
        for (DropCause i = 0; i < _DROP_CAUSE_MAX; i++)
                json_object_object_add(dropped, drop_cause_to_string(i),
                                       json_object_new_uint64(c->dropped[i]));
        json_object_object_add(d, "dropped", dropped);
        json_object_object_add(o, "delivery", d);
        return 0;
}

/* --- the shipper as a sink --- */

#define SHIPPER(s) ((Shipper *)(s))

static int shipper_sink_submit(Sink *s, uint64_t seq, const char *line, size_t size)
{
        return shipper_submit(SHIPPER(s), seq, line, size);
}

static void shipper_sink_batch_end(Sink *s)
{
        shipper_kick(SHIPPER(s));
}

static int shipper_sink_flush(Sink *s)
{
        shipper_flush(SHIPPER(s));
        return 0;
}

/* A spool keeps what is left for the next start (shipper_free()): only memory needs the wait. */
static int shipper_sink_drain(Sink *s, SinkDrained done, void *userdata)
{
        if (shipper_has_spool(SHIPPER(s)))
                return 0;
        return shipper_drain(SHIPPER(s), done, userdata);
}

static void shipper_sink_set_api(Sink *s, struct ApiClient *api)
{
        shipper_set_api(SHIPPER(s), api);
}

static void shipper_sink_get_counters(const Sink *s, SinkCounters *ret)
{
        shipper_get_counters(SHIPPER(s), ret);
}

/* The line the agent logs at start and in STATUS= names the local stream, which the API sink leaves
 * untouched on stdout. */
static const char *shipper_sink_describe(const Sink *s)
{
        return "stdout";
}

static void shipper_sink_free(Sink *sink)
{
        Shipper *s = SHIPPER(sink);
        SinkCounters c;

        if (!s->spool) {
                shipper_get_counters(s, &c);
                if (c.queued > 0)
                        log_warning("%" PRIu64 " undelivered events in memory are lost with the exit.",
                                    c.queued);
        }
        shipper_free(s);
}

static const SinkOps shipper_sink_ops = {
        .remote = true,
        .submit = shipper_sink_submit,
        .batch_end = shipper_sink_batch_end,
        .flush = shipper_sink_flush,
        .drain = shipper_sink_drain,
        .set_api = shipper_sink_set_api,
        .get_counters = shipper_sink_get_counters,
        .describe = shipper_sink_describe,
        .free = shipper_sink_free,
};

Sink *shipper_as_sink(Shipper *s)
{
        s->sink.ops = &shipper_sink_ops;
        return &s->sink;
}
