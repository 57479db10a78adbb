#pragma once
/* --metrics-listen: Prometheus text exposition of the agent's status at GET /metrics, served by
 * libmicrohttpd from the agent's sd-event loop. */

#include "daemon/agent-status.h"
#include "util/macro.h"
#include "util/strbuf.h"

struct Manager;
typedef struct Metrics Metrics;

/* Listens on `listen` ("ADDR:PORT", parse_listen_address()). -EOPNOTSUPP when built without
 * libmicrohttpd, -EADDRINUSE and friends when the address cannot be bound. */
int metrics_start(Metrics **ret, struct Manager *m, const char *listen);
Metrics *metrics_free(Metrics *x);
DEFINE_TRIVIAL_CLEANUP_FUNC(Metrics *, metrics_free);

/* The exposition text (format 0.0.4) of one snapshot. */
void metrics_render(const AgentStatus *st, StrBuf *out);
