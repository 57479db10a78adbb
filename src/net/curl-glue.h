#pragma once
/* libcurl's multi interface driven by an sd-event loop, and the options every request shares. */

#include <curl/curl.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "util/macro.h"

typedef struct CurlGlue CurlGlue;

/* Called from the event loop once per finished transfer, with the userdata given to curl_glue_make().
 * The handle has already left the multi handle and belongs to the callback again (which usually
 * calls curl_easy_cleanup()). The callback may free the glue. */
typedef void (*curl_glue_finished_t)(CurlGlue *g, CURL *c, CURLcode result, void *userdata);

int curl_glue_new(CurlGlue **ret, sd_event *e);
/* Detaches every transfer still running (without calling back; the handles stay the caller's) and
 * closes all connections. Accepts NULL, returns NULL; safe from inside the finished callback. */
CurlGlue *curl_glue_free(CurlGlue *g);
DEFINE_TRIVIAL_CLEANUP_FUNC(CurlGlue *, curl_glue_free);
void curl_glue_set_on_finished(CurlGlue *g, curl_glue_finished_t on_finished);

/* A handle with the options all our requests share: https only, no signals, no redirects, connect
 * timeout, low-speed limit, TCP keep-alive, TLS >= 1.2, peer and host verification on. */
int curl_glue_make(CURL **ret, const char *url, void *userdata);
/* Starts the transfer; its end is reported to the finished callback. */
int curl_glue_add(CurlGlue *g, CURL *c);
/* Cancels a transfer started with curl_glue_add() without calling back. No-op if it is not running. */
void curl_glue_remove(CurlGlue *g, CURL *c);
size_t curl_glue_n_running(const CurlGlue *g);

/* Server trust: with a CA file, that file alone (CURLOPT_CAINFO, and CURLOPT_CAPATH cleared so the
 * compiled-in /etc/ssl/certs directory is not trusted as well); without one, the system store. */
int curl_glue_set_trust(CURL *c, const char *ca_file);

/* CURLcode as -errno: -ECONNREFUSED, -EHOSTUNREACH, -ETIMEDOUT, -ECONNRESET, -EPIPE, -ECONNABORTED (TLS
 * handshake), -EKEYREJECTED (server certificate not trusted), -ENOKEY (our certificate or key unusable),
 * -ENOENT (CA file unusable), -ENOMEM, -EINVAL, -EPROTONOSUPPORT, -ECANCELED, -EIO for the rest. */
int curl_code_to_errno(CURLcode code);
/* Errors worth retrying: the network or the server's process, not our configuration. */
bool curl_code_is_transient(CURLcode code);
/* A response body is kept in memory and parsed whole; a real answer is a few kilobytes. */
#define CURL_GLUE_RESPONSE_MAX (1024 * 1024)
/* Appends `n` bytes of a response body to `*buf` (NUL-terminated, `*size` bytes), for a
 * CURLOPT_WRITEFUNCTION. Returns `n`, or 0 to make libcurl fail the transfer (CURLE_WRITE_ERROR): out of
 * memory, or the body would pass CURL_GLUE_RESPONSE_MAX, which sets `*too_big`. */
size_t curl_glue_response_append(char **buf, size_t *size, bool *too_big, const char *data, size_t n);
/* Why a transfer failed: "the backend's answer exceeds 1 MiB" when `too_big` (libcurl would only say it
 * failed writing output), else the detailed CURLOPT_ERRORBUFFER text if there is one, else
 * curl_easy_strerror(). */
const char *curl_glue_strerror(CURLcode code, const char *errbuf, bool too_big);

static inline void curl_easy_cleanupp(CURL **c)
{
        if (*c)
                curl_easy_cleanup(*c);
}
static inline void curl_slist_free_allp(struct curl_slist **l)
{
        if (*l)
                curl_slist_free_all(*l);
}
