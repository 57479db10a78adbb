/* The heartbeat shapes of the agent's status: the local record (snake_case, in the event stream) and the
 * API heartbeat (camelCase, the backend's contract). The field names and their order are wire formats. */

#include "daemon/agent-status.h"

#include <errno.h>
#include <json-c/json.h>

#include "ship/shipper.h"
#include "util/log.h"

static json_object *string_or_null(const char *s)
{
        return s && s[0] ? json_object_new_string(s) : NULL;
}

int agent_status_heartbeat_record(const AgentStatus *st, usec_t realtime, uint64_t sequence,
                                  json_object **ret)
{
        json_object *o = json_object_new_object();

        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "type", json_object_new_string("heartbeat"));
        json_object_object_add(o, "time", json_object_new_int64((int64_t)(realtime / USEC_PER_MSEC)));
        json_object_object_add(o, "sequence", json_object_new_int64((int64_t)sequence));
        json_object_object_add(o, "mode", json_object_new_string(st->mode));
        json_object_object_add(o, "uptime_s", json_object_new_int64((int64_t)st->uptime_s));
        json_object_object_add(o, "version", json_object_new_string(st->version));
        json_object_object_add(o, "degraded", string_or_null(st->degraded_reason));
        json_object_object_add(o, "events", json_object_new_int64((int64_t)st->seen));
        json_object_object_add(o, "ring_drops",
                               json_object_new_int64((int64_t)st->delivery.dropped[DROP_RING_BUFFER]));
        json_object_object_add(o, "pending_drops", json_object_new_int64((int64_t)st->pending_drops));
        json_object_object_add(o, "decode_errors", json_object_new_int64((int64_t)st->decode_errors));
        json_object_object_add(o, "encode_errors", json_object_new_int64((int64_t)st->encode_errors));
        *ret = o;
        return 0;
}

int agent_status_api_heartbeat(const AgentStatus *st, json_object **ret)
{
        json_object *o = json_object_new_object();
        int r;

        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "agentId", json_object_new_string(st->agent_id));
        json_object_object_add(o, "agentVersion", json_object_new_string(st->version));
        json_object_object_add(o, "mode", json_object_new_string(st->mode));
        json_object_object_add(o, "uptimeSeconds", json_object_new_int64((int64_t)st->uptime_s));
        json_object_object_add(o, "degraded", string_or_null(st->degraded_reason));
        json_object_object_add(o, "eventsSeen", json_object_new_int64((int64_t)st->seen));
        json_object_object_add(o, "ringDrops",
                               json_object_new_int64((int64_t)st->delivery.dropped[DROP_RING_BUFFER]));
        json_object_object_add(o, "pendingDrops", json_object_new_int64((int64_t)st->pending_drops));
        if (st->remote) {
                r = shipper_counters_to_json(&st->delivery, o);
                /* The counters are a courtesy; the heartbeat itself is what keeps the agent known. */
                if (r < 0)
                        log_debug(
                                "No memory for the delivery counters, sending the heartbeat without them.");
        }
        *ret = o;
        return 0;
}
