/* The enrolment state machine. The key, the CSR, the request body and the Idempotency-Key are made
 * once in enroll_start() and every attempt sends exactly the same bytes, so however many times a
 * request is retried (connect errors, a cut connection, 429, 5xx) the backend issues one identity.
 * Attempts are spaced by backoff.c with the server's Retry-After as a floor; each attempt's timeout is
 * clipped to the time left, so the give-up time holds even for a server that never answers.
 *
 *   start -> attempt -> finished -> (success | fatal) -> done()
 *                ^          |
 *                +- timer <-+ transient: backoff_next() or -ETIMEDOUT -> done() */

#include <assert.h>
#include <inttypes.h>

#include "config.h"
#include "core/backoff.h"
#include "core/enroll-proto.h"
#include "core/http-time.h"
#include "net/curl-glue.h"
#include "net/enroll.h"
#include "util/log.h"
#include "util/secure-mem.h"

#define DEFAULT_GIVE_UP         (300 * USEC_PER_SEC)
#define DEFAULT_BACKOFF_INITIAL (1 * USEC_PER_SEC)
#define DEFAULT_BACKOFF_MAX     (60 * USEC_PER_SEC)
#define DEFAULT_REQUEST_TIMEOUT (60 * USEC_PER_SEC)

struct Enroll {
        sd_event *event;
        CurlGlue *glue;
        sd_event_source *retry_timer;

        TlsIdentity *identity;
        char *body; /* secure buffer: holds the token */
        char *url;
        char *ca_file;
        struct curl_slist *headers;

        CURL *transfer;
        char errbuf[CURL_ERROR_SIZE];
        char *response;
        size_t response_size;
        bool response_too_big;

        Backoff backoff;
        usec_t request_timeout;
        unsigned attempts;
        char *last_error;
        char *agent_id;

        enroll_done_t done;
        void *userdata;
};

EnrollParams enroll_params_from_config(const AgentConfig *c, const char *token, const char *hostname)
{
        const Settings *s = &c->settings;

        assert(c);
        return (EnrollParams){
                .api_url = settings_str(s, SETTING_API_URL),
                .ca_file = settings_str(s, SETTING_CA_FILE),
                .tenant_id = settings_str(s, SETTING_TENANT_ID),
                .token = token,
                .workload_id = c->workload_id,
                .hostname = hostname,
                .mode = agent_mode_to_string(c->profile.mode),
                .agent_version = PACKAGE_VERSION,
                .give_up_usec = settings_uint(s, SETTING_ENROLL_TIMEOUT) * USEC_PER_SEC,
        };
}

static EnrollRequest enroll_request_from_params(const EnrollParams *p, const char *csr)
{
        return (EnrollRequest){
                .tenant_id = p->tenant_id,
                .token = p->token,
                .workload_id = p->workload_id,
                .csr = csr,
                .hostname = p->hostname,
                .mode = p->mode,
                .agent_version = p->agent_version,
        };
}

const char *enroll_params_check(const EnrollParams *p)
{
        /* The CSR is ours to make, so it cannot be missing; anything non-empty stands in for it. */
        EnrollRequest req = enroll_request_from_params(p, "-");
        const char *error = NULL;

        if (enroll_request_validate(&req, &error) < 0)
                return error;
        if (isempty(p->api_url))
                return "API URL required";
        /* It becomes a header line. */
        for (const char *c = p->workload_id; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                        return "workload id must not contain control characters";
        return NULL;
}

static void enroll_abort_transfer(Enroll *e)
{
        if (!e->transfer)
                return;
        curl_glue_remove(e->glue, e->transfer);
        curl_easy_cleanup(e->transfer);
        e->transfer = NULL;
}

Enroll *enroll_free(Enroll *e)
{
        if (!e)
                return NULL;

        enroll_abort_transfer(e);
        curl_glue_free(e->glue);
        sd_event_source_disable_unref(e->retry_timer);
        sd_event_unref(e->event);
        tls_identity_free(e->identity);
        secure_free(e->body);
        curl_slist_free_all(e->headers);
        free(e->url);
        free(e->ca_file);
        free(e->response);
        free(e->last_error);
        free(e->agent_id);
        return mfree(e);
}

/* Hands the result over exactly once. The callback may free `e`, so nothing touches it afterwards. */
static void enroll_finish(Enroll *e, int r, const char *text)
{
        enroll_done_t done = e->done;
        TlsIdentity *identity = r >= 0 ? TAKE_PTR(e->identity) : NULL;

        e->done = NULL;
        if (done)
                done(r, identity, text, e->userdata);
        else
                tls_identity_free(identity);
}

static size_t enroll_on_data(char *data, size_t size, size_t nmemb, void *userdata)
{
        Enroll *e = userdata;

        return curl_glue_response_append(&e->response, &e->response_size, &e->response_too_big, data,
                                         size * nmemb);
}

static int enroll_attempt(Enroll *e)
{
        _cleanup_(curl_easy_cleanupp) CURL *c = NULL;
        usec_t timeout = e->request_timeout, left = backoff_remaining(&e->backoff, now(CLOCK_MONOTONIC));
        int r;

        if (left < timeout)
                timeout = left;
        if (timeout < USEC_PER_MSEC)
                timeout = USEC_PER_MSEC;

        e->response = mfree(e->response);
        e->response_size = 0;
        e->response_too_big = false;
        e->errbuf[0] = '\0';

        r = curl_glue_make(&c, e->url, e);
        if (r < 0)
                return r;
        r = curl_glue_set_trust(c, e->ca_file);
        if (r < 0)
                return r;
        /* POSTFIELDS, not COPYPOSTFIELDS: libcurl sends from our locked buffer and keeps no copy. */
        if (curl_easy_setopt(c, CURLOPT_POSTFIELDS, e->body) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)secure_size(e->body)) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_HTTPHEADER, e->headers) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, enroll_on_data) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_WRITEDATA, e) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_ERRORBUFFER, e->errbuf) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout / USEC_PER_MSEC)) != CURLE_OK)
                return -EIO;

        r = curl_glue_add(e->glue, c);
        if (r < 0)
                return r;
        e->transfer = TAKE_PTR(c);
        e->attempts++;
        log_debug("Enrolment attempt %u: POST %s", e->attempts, e->url);
        return 0;
}

static int enroll_on_retry_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        Enroll *e = userdata;
        int r;

        r = enroll_attempt(e);
        if (r < 0)
                enroll_finish(e, r, "failed to start enrollment request");
        return 0;
}

static void enroll_retry(Enroll *e, usec_t retry_after, char *reason /* consumed */)
{
        usec_t t = now(CLOCK_MONOTONIC), delay;
        _cleanup_free_ char *text = NULL;
        int r;

        free(e->last_error);
        e->last_error = reason;

        r = backoff_next(&e->backoff, t, retry_after, &delay);
        if (r < 0) {
                if (asprintf(&text,
                             "gave up enrolling at %s after %u attempts in %" PRIu64 " s; last error: %s",
                             e->url, e->attempts, (t - e->backoff.start) / USEC_PER_SEC,
                             strna(e->last_error)) < 0)
                        text = NULL;
                enroll_finish(e, -ETIMEDOUT, text ?: "gave up enrolling");
                return;
        }

        log_info("Enrollment attempt %u failed (%s), retrying in %" PRIu64 " ms.", e->attempts,
                 strna(e->last_error), delay / USEC_PER_MSEC);

        if (e->retry_timer)
                r = sd_event_source_set_time_relative(e->retry_timer, delay);
        else {
                r = sd_event_add_time_relative(e->event, &e->retry_timer, CLOCK_MONOTONIC, delay,
                                               USEC_PER_MSEC, enroll_on_retry_timer, e);
                if (r >= 0)
                        (void)sd_event_source_set_description(e->retry_timer, "enroll-retry");
        }
        if (r >= 0)
                r = sd_event_source_set_enabled(e->retry_timer, SD_EVENT_ONESHOT);
        if (r < 0)
                enroll_finish(e, r, "failed to schedule enrollment retry");
}

static void enroll_on_transport_error(Enroll *e, CURLcode result)
{
        const char *detail = curl_glue_strerror(result, e->errbuf, e->response_too_big);
        _cleanup_free_ char *text = NULL;
        char *reason = NULL;
        int r;

        if (curl_code_is_transient(result)) {
                if (asprintf(&reason, "%s", detail) < 0)
                        reason = NULL;
                enroll_retry(e, 0, reason);
                return;
        }

        r = curl_code_to_errno(result);
        if (r == -EKEYREJECTED)
                r = asprintf(&text,
                             "server certificate of %s is not trusted by %s (%s); pass the backend's CA "
                             "with --ca-file",
                             e->url, e->ca_file ? e->ca_file : "the system store", detail);
        else if (r == -ENOENT)
                r = asprintf(&text, "cannot load CA file %s given with --ca-file (%s)", strna(e->ca_file),
                             detail);
        else
                r = asprintf(&text, "enrollment request to %s failed: %s", e->url, detail);
        if (r < 0)
                text = NULL;
        enroll_finish(e, curl_code_to_errno(result), text ?: detail);
}

static void enroll_on_answer(Enroll *e)
{
        EnrollResponse resp = {};
        _cleanup_free_ char *reason = NULL, *text = NULL;
        int r;

        r = enroll_response_parse(e->response ?: "", e->response_size, &resp, &reason);
        if (r >= 0) {
                r = tls_identity_set_certificate(e->identity, resp.certificate, resp.ca_chain);
                if (r < 0)
                        reason = strdup("certificate or caChain is not PEM");
        }
        if (r >= 0) {
                r = tls_identity_verify(e->identity, now(CLOCK_REALTIME));
                if (r == -ETIME) {
                        log_warning(
                                "Issued certificate is not valid yet; is the clock behind the backend's?");
                        r = 0;
                }
                if (r < 0 && asprintf(&reason, "issued certificate unusable: %s",
                                      tls_identity_verify_strerror(r)) < 0)
                        reason = NULL;
        }
        if (r >= 0) {
                e->agent_id = TAKE_PTR(resp.agent_id);
                enroll_response_done(&resp);
                log_debug("Enrolled as agent %s.", e->agent_id);
                enroll_finish(e, 0, NULL);
                return;
        }

        enroll_response_done(&resp);
        if (asprintf(&text, "malformed enrollment answer from %s: %s", e->url, strna(reason)) < 0)
                text = NULL;
        enroll_finish(e, r == -ENOMEM ? r : -EBADMSG, text ?: "malformed enrollment answer");
}

static void enroll_on_finished(CurlGlue *g, CURL *c, CURLcode result, void *userdata)
{
        Enroll *e = userdata;
        struct curl_header *h = NULL;
        usec_t retry_after = 0;
        long status = 0;
        char *text;

        (void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (result == CURLE_OK && curl_easy_header(c, "Retry-After", 0, CURLH_HEADER, -1, &h) == CURLHE_OK &&
            retry_after_parse(h->value, now(CLOCK_REALTIME), &retry_after) < 0)
                retry_after = 0;
        curl_easy_cleanup(c);
        e->transfer = NULL;

        if (result != CURLE_OK) {
                enroll_on_transport_error(e, result);
                return;
        }

        switch (enroll_classify_status(status)) {
        case ENROLL_VERDICT_SUCCESS:
                enroll_on_answer(e);
                return;
        case ENROLL_VERDICT_RETRY:
                text = enroll_error_text(status, e->response, e->response_size);
                if (text && !startswith(text, "HTTP ")) {
                        char *t = NULL;
                        if (asprintf(&t, "HTTP %ld: %s", status, text) < 0)
                                t = NULL;
                        free(text);
                        text = t;
                }
                enroll_retry(e, retry_after, text);
                return;
        case ENROLL_VERDICT_FATAL:
        default:
                text = enroll_error_text(status, e->response, e->response_size);
                enroll_finish(e, text ? enroll_status_to_errno(status) : -ENOMEM, text ?: "out of memory");
                free(text);
                return;
        }
}

static int enroll_headers(Enroll *e, const char *workload_id)
{
        _cleanup_free_ char *key = NULL;
        static const char *const fixed[] = {
                "Content-Type: application/json", "Accept: application/json",
                "Expect:", /* no 100-continue round trip */
        };

        if (asprintf(&key, "Idempotency-Key: %s", workload_id) < 0)
                return -ENOMEM;
        for (size_t i = 0; i <= ELEMENTSOF(fixed); i++) {
                struct curl_slist *l = curl_slist_append(e->headers, i < ELEMENTSOF(fixed) ? fixed[i] : key);
                if (!l)
                        return -ENOMEM;
                e->headers = l;
        }
        return 0;
}

static int enroll_prepare(Enroll *e, const EnrollParams *p)
{
        _cleanup_secret_ char *body = NULL;
        EnrollRequest req;
        size_t n;
        int r;

        r = tls_identity_generate(&e->identity, p->workload_id);
        if (r < 0)
                return r;

        req = enroll_request_from_params(p, tls_identity_get_csr(e->identity));
        r = enroll_request_build(&req, &body);
        if (r < 0)
                return r;
        e->body = secure_strndup(body, strlen(body));
        if (!e->body)
                return -ENOMEM;

        n = strlen(p->api_url);
        while (n > 0 && p->api_url[n - 1] == '/')
                n--;
        if (asprintf(&e->url, "%.*s/agent/enroll", (int)n, p->api_url) < 0)
                return -ENOMEM;
        if (p->ca_file && !(e->ca_file = strdup(p->ca_file)))
                return -ENOMEM;
        return enroll_headers(e, p->workload_id);
}

int enroll_start(Enroll **ret, sd_event *event, const EnrollParams *p, enroll_done_t done, void *userdata)
{
        _cleanup_(enroll_freep) Enroll *e = NULL;
        int r;

        if (!ret || !event || !p || !done)
                return -EINVAL;
        if (enroll_params_check(p))
                return -EINVAL;

        e = calloc(1, sizeof(Enroll));
        if (!e)
                return -ENOMEM;
        e->event = sd_event_ref(event);
        e->done = done;
        e->userdata = userdata;
        e->request_timeout = p->request_timeout_usec ?: DEFAULT_REQUEST_TIMEOUT;
        e->backoff = (Backoff){
                .initial = p->backoff_initial_usec ?: DEFAULT_BACKOFF_INITIAL,
                .max = p->backoff_max_usec ?: DEFAULT_BACKOFF_MAX,
                .multiplier = 2.0,
                .give_up = p->give_up_usec ?: DEFAULT_GIVE_UP,
                .jitter = BACKOFF_JITTER_DECORRELATED,
                .random = backoff_random,
        };
        if (e->backoff.max < e->backoff.initial)
                e->backoff.max = e->backoff.initial;

        r = enroll_prepare(e, p);
        if (r < 0)
                return log_debug_errno(r, "Failed to prepare enrollment request: %m");

        r = curl_glue_new(&e->glue, event);
        if (r < 0)
                return r;
        curl_glue_set_on_finished(e->glue, enroll_on_finished);

        backoff_start(&e->backoff, now(CLOCK_MONOTONIC));
        r = enroll_attempt(e);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(e);
        return 0;
}

const char *enroll_get_agent_id(const Enroll *e)
{
        return e ? e->agent_id : NULL;
}

unsigned enroll_get_attempts(const Enroll *e)
{
        return e ? e->attempts : 0;
}
