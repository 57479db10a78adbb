#pragma once
/* Requests to the backend's mTLS endpoints (/agent/heartbeat, /agent/events, ...) on the event loop. */

#include <stddef.h>
#include <systemd/sd-event.h>

#include "net/tls-identity.h"
#include "util/macro.h"
#include "util/time-util.h"

typedef struct ApiClient ApiClient;

typedef struct ApiRequest {
        const char *path; /* appended to the API URL, e.g. "/agent/heartbeat" */
        const void *body; /* copied */
        size_t body_size;
        const char *content_type;         /* NULL = "application/json" */
        const char *const *extra_headers; /* NULL-terminated "Name: value" lines (e.g.
                                           * "Content-Encoding: gzip"), or NULL */
        usec_t timeout_usec;              /* 0 = 30 s */
} ApiRequest;

/* Once per request, from the event loop. r < 0: no HTTP answer (-errno as curl_code_to_errno(),
 * status 0, error_text says why). r == 0: an answer with any status; judging it is the caller's job.
 * body is NUL-terminated and valid only during the callback. The callback may free the client. */
typedef void (*api_done_t)(int r, long status, const char *body, size_t body_size, const char *error_text,
                           void *userdata);

/* ca_file: server trust, NULL = system store. */
int api_client_new(ApiClient **ret, sd_event *e, const char *api_url, const char *ca_file);
/* Cancels pending requests without calling back. NULL-safe. */
ApiClient *api_client_free(ApiClient *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(ApiClient *, api_client_free);

/* The client certificate for following requests; borrowed, it must outlive the client or be replaced
 * first. Pooled connections made with the previous identity are closed. -EBUSY while requests run. */
int api_client_set_identity(ApiClient *c, const TlsIdentity *identity);

int api_client_post(ApiClient *c, const ApiRequest *req, api_done_t done, void *userdata);
/* Inside a done callback: the answer's Retry-After header, or NULL when it had none. */
const char *api_client_retry_after(const ApiClient *c);
/* POST /agent/heartbeat with a JSON body. */
int api_client_heartbeat(ApiClient *c, const char *json_body, api_done_t done, void *userdata);
size_t api_client_n_pending(const ApiClient *c);
