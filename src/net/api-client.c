/* A thin layer over curl-glue for authenticated calls: each call owns its handle, headers and answer
 * buffer and is listed in the client so freeing the client cancels it. The identity's sealed memfds
 * are named in every handle; libcurl re-reads them for each new connection. Replacing the identity
 * replaces the connection pool too, because libcurl would otherwise reuse a connection that was
 * authenticated with the old certificate (it matches pooled connections by file name, and the new
 * memfds may get the same numbers). */

#include "net/api-client.h"
#include "net/curl-glue.h"
#include "util/log.h"

#define DEFAULT_REQUEST_TIMEOUT (30 * USEC_PER_SEC)

typedef struct ApiCall ApiCall;

struct ApiClient {
        sd_event *event;
        CurlGlue *glue;
        char *api_url;
        char *ca_file;
        const TlsIdentity *identity;
        ApiCall *calls;
        char retry_after[64]; /* of the answer being reported, "" if none */
};

struct ApiCall {
        ApiClient *client;
        ApiCall *prev, *next;
        CURL *easy;
        struct curl_slist *headers;
        char *response;
        size_t response_size;
        bool response_too_big;
        char errbuf[CURL_ERROR_SIZE];
        api_done_t done;
        void *userdata;
};

static ApiCall *api_call_free(ApiCall *call)
{
        if (!call)
                return NULL;
        if (call->client) {
                ApiClient *c = call->client;
                curl_glue_remove(c->glue, call->easy);
                if (call->prev)
                        call->prev->next = call->next;
                else
                        c->calls = call->next;
                if (call->next)
                        call->next->prev = call->prev;
        }
        if (call->easy)
                curl_easy_cleanup(call->easy);
        curl_slist_free_all(call->headers);
        free(call->response);
        return mfree(call);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(ApiCall *, api_call_free);

ApiClient *api_client_free(ApiClient *c)
{
        if (!c)
                return NULL;
        while (c->calls)
                api_call_free(c->calls);
        curl_glue_free(c->glue);
        sd_event_unref(c->event);
        free(c->api_url);
        free(c->ca_file);
        return mfree(c);
}

static void api_client_on_finished(CurlGlue *g, CURL *easy, CURLcode result, void *userdata)
{
        _cleanup_(api_call_freep) ApiCall *call = userdata;
        _cleanup_free_ char *text = NULL;
        ApiClient *c = call->client;
        struct curl_header *h = NULL;
        long status = 0;
        int r = 0;

        /* Unlink first: the callback may free the client. The glue has already let go of the handle. */
        if (call->prev)
                call->prev->next = call->next;
        else
                call->client->calls = call->next;
        if (call->next)
                call->next->prev = call->prev;
        call->client = NULL;

        c->retry_after[0] = '\0';
        if (result == CURLE_OK) {
                (void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
                if (curl_easy_header(easy, "Retry-After", 0, CURLH_HEADER, -1, &h) == CURLHE_OK && h)
                        snprintf(c->retry_after, sizeof(c->retry_after), "%s", h->value);
        } else {
                r = curl_code_to_errno(result);
                if (asprintf(&text, "%s", curl_glue_strerror(result, call->errbuf, call->response_too_big)) <
                    0)
                        text = NULL;
        }
        call->done(r, status, call->response ?: "", call->response_size, text, call->userdata);
}

static int api_client_new_glue(ApiClient *c)
{
        CurlGlue *g;
        int r;

        r = curl_glue_new(&g, c->event);
        if (r < 0)
                return r;
        curl_glue_set_on_finished(g, api_client_on_finished);
        curl_glue_free(c->glue);
        c->glue = g;
        return 0;
}

int api_client_new(ApiClient **ret, sd_event *e, const char *api_url, const char *ca_file)
{
        _cleanup_(api_client_freep) ApiClient *c = NULL;
        size_t n;
        int r;

        if (!ret || !e || isempty(api_url))
                return -EINVAL;

        c = calloc(1, sizeof(ApiClient));
        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(e);
        n = strlen(api_url);
        while (n > 0 && api_url[n - 1] == '/')
                n--;
        c->api_url = strndup(api_url, n);
        if (!c->api_url || (ca_file && !(c->ca_file = strdup(ca_file))))
                return -ENOMEM;
        r = api_client_new_glue(c);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(c);
        return 0;
}

int api_client_set_identity(ApiClient *c, const TlsIdentity *identity)
{
        int r;

        if (!c)
                return -EINVAL;
        if (c->calls)
                return -EBUSY;
        if (c->identity && c->identity != identity) {
                r = api_client_new_glue(c);
                if (r < 0)
                        return r;
        }
        c->identity = identity;
        return 0;
}

static size_t api_call_on_data(char *data, size_t size, size_t nmemb, void *userdata)
{
        ApiCall *call = userdata;

        return curl_glue_response_append(&call->response, &call->response_size, &call->response_too_big,
                                         data, size * nmemb);
}

static int api_call_headers(ApiCall *call, const ApiRequest *req)
{
        _cleanup_free_ char *content_type = NULL;
        struct curl_slist *l;

        if (asprintf(&content_type, "Content-Type: %s", req->content_type ?: "application/json") < 0)
                return -ENOMEM;
        l = curl_slist_append(call->headers, content_type);
        if (l)
                l = curl_slist_append(call->headers = l, "Expect:");
        for (const char *const *h = req->extra_headers; l && h && *h; h++)
                l = curl_slist_append(call->headers = l, *h);
        if (!l)
                return -ENOMEM;
        call->headers = l;
        return 0;
}

static int api_call_setup(ApiCall *call, ApiClient *c, const ApiRequest *req)
{
        _cleanup_free_ char *url = NULL;
        usec_t timeout = req->timeout_usec ?: DEFAULT_REQUEST_TIMEOUT;
        int r;

        if (asprintf(&url, "%s%s", c->api_url, req->path) < 0)
                return -ENOMEM;
        r = curl_glue_make(&call->easy, url, call);
        if (r >= 0)
                r = curl_glue_set_trust(call->easy, c->ca_file);
        if (r >= 0 && c->identity)
                r = tls_identity_apply(c->identity, call->easy);
        if (r >= 0)
                r = api_call_headers(call, req);
        if (r < 0)
                return r;

        if (curl_easy_setopt(call->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_size) !=
                    CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_COPYPOSTFIELDS, req->body ?: "") != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_HTTPHEADER, call->headers) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_WRITEFUNCTION, api_call_on_data) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_WRITEDATA, call) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_ERRORBUFFER, call->errbuf) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_TIMEOUT_MS, (long)(timeout / USEC_PER_MSEC)) != CURLE_OK)
                return -EIO;
        return 0;
}

int api_client_post(ApiClient *c, const ApiRequest *req, api_done_t done, void *userdata)
{
        _cleanup_(api_call_freep) ApiCall *call = NULL;
        int r;

        if (!c || !req || isempty(req->path) || req->path[0] != '/' || !done ||
            (!req->body && req->body_size > 0))
                return -EINVAL;

        call = calloc(1, sizeof(ApiCall));
        if (!call)
                return -ENOMEM;
        call->done = done;
        call->userdata = userdata;

        r = api_call_setup(call, c, req);
        if (r < 0)
                return r;
        r = curl_glue_add(c->glue, call->easy);
        if (r < 0)
                return r;

        call->client = c;
        call->next = c->calls;
        if (c->calls)
                c->calls->prev = call;
        c->calls = TAKE_PTR(call);
        return 0;
}

int api_client_heartbeat(ApiClient *c, const char *json_body, api_done_t done, void *userdata)
{
        ApiRequest req = {
                .path = "/agent/heartbeat",
                .body = json_body ?: "{}",
                .body_size = strlen(json_body ?: "{}"),
        };

        return api_client_post(c, &req, done, userdata);
}

const char *api_client_retry_after(const ApiClient *c)
{
        return c && c->retry_after[0] ? c->retry_after : NULL;
}

size_t api_client_n_pending(const ApiClient *c)
{
        size_t n = 0;

        for (const ApiCall *call = c ? c->calls : NULL; call; call = call->next)
                n++;
        return n;
}
