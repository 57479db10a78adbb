/* Certificate renewal.
 *
 * The schedule runs on CLOCK_REALTIME because notBefore and notAfter are wall-clock times: a host that
 * slept or had its clock stepped renews when the certificate says so. The lifetime counts from the later of
 * notBefore and the moment this process obtained the certificate, because issuers backdate notBefore to
 * tolerate clock skew (the reference backend by 60 s), which would otherwise move two thirds of a short
 * lifetime into the past and renew in a loop.
 *
 * The API client can take a new identity only while no request runs (api_client_set_identity() is -EBUSY
 * then). So delivery is paused (sink_set_api(NULL)), which lets the client go idle within one request at
 * worst, and the swap is retried on a short timer; events wait in the queue meanwhile and nothing is
 * dropped. */

#include "daemon/manager.h"

#include <errno.h>
#include <gnutls/x509.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>

#include "config.h"
#include "core/backoff.h"
#include "core/enroll-proto.h"
#include "core/http-time.h"
#include "identity/host-store.h"
#include "identity/tls-cache.h"
#include "net/api-client.h"
#include "net/enroll.h"
#include "ship/sink.h"
#include "util/json-util.h"
#include "util/log.h"

#define RENEW_SWAP_RETRY_USEC (20 * USEC_PER_MSEC)
#define RENEW_BACKOFF_INITIAL (1 * USEC_PER_SEC)
#define RENEW_BACKOFF_MAX     (60 * USEC_PER_SEC)
#define RENEW_REQUEST_TIMEOUT (30 * USEC_PER_SEC)

typedef struct Renewal {
        Manager *manager;
        sd_event_source *renew_timer;     /* CLOCK_REALTIME: the next attempt */
        sd_event_source *expiry_timer;    /* CLOCK_REALTIME: the certificate's notAfter */
        sd_event_source *swap_timer;      /* CLOCK_MONOTONIC: retries the swap while requests run */
        const TlsIdentity *scheduled_for; /* the identity the timers were armed for */
        usec_t obtained;                  /* when this process got it, CLOCK_REALTIME */
        TlsIdentity *candidate;           /* key and CSR of the request in flight */
        TlsIdentity *pending;             /* issued and verified, waiting for the client to go idle */
        char pending_agent_id[128];
        struct Enroll *enroll; /* enrolling again after expiry */
        Backoff backoff;
        bool request_in_flight;
        bool expired;
        unsigned failures;
        uint64_t renewals;
        char last_error[256];
} Renewal;

static Renewal *renewal_free(Renewal *r)
{
        if (!r)
                return NULL;
        sd_event_source_disable_unref(r->renew_timer);
        sd_event_source_disable_unref(r->expiry_timer);
        sd_event_source_disable_unref(r->swap_timer);
        enroll_free(r->enroll);
        tls_identity_free(r->candidate);
        tls_identity_free(r->pending);
        return mfree(r);
}

/* Arms a one-shot timer, creating it on first use. */
static int arm_timer(Renewal *r, sd_event_source **s, clockid_t clock, usec_t when, usec_t accuracy,
                     sd_event_time_handler_t cb, const char *description)
{
        int k;

        if (!*s) {
                k = sd_event_add_time(r->manager->event, s, clock, when, accuracy, cb, r);
                if (k >= 0)
                        k = sd_event_source_set_description(*s, description);
                return k;
        }
        k = sd_event_source_set_time(*s, when);
        if (k >= 0)
                k = sd_event_source_set_time_accuracy(*s, accuracy);
        if (k >= 0)
                k = sd_event_source_set_enabled(*s, SD_EVENT_ONESHOT);
        return k;
}

/* The certificate's notBefore (CLOCK_REALTIME usec); 0 if it cannot be read. */
static usec_t certificate_not_before(const TlsIdentity *id)
{
        const char *pem = tls_identity_get_cert_pem(id);
        gnutls_datum_t d = {(unsigned char *)pem, pem ? (unsigned)strlen(pem) : 0};
        gnutls_x509_crt_t crt;
        time_t t = (time_t)-1;

        if (!pem || gnutls_x509_crt_init(&crt) < 0)
                return 0;
        if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) >= 0)
                t = gnutls_x509_crt_get_activation_time(crt);
        gnutls_x509_crt_deinit(crt);
        return t == (time_t)-1 || t < 0 ? 0 : (usec_t)t * USEC_PER_SEC;
}

static void renewal_attempt(Renewal *r);

static int on_renew_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        renewal_attempt(userdata);
        return 0;
}

static int on_expiry_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        Renewal *r = userdata;
        Manager *m = r->manager;

        if (!m->identity || tls_identity_get_not_after(m->identity) > now(CLOCK_REALTIME))
                return 0;
        r->expired = true;
        log_error("The agent's certificate expired; %s",
                  settings_str(&m->config->settings, SETTING_ENROLL_TOKEN)
                          ? "enrolling again with the enrolment token."
                          : "there is no enrolment token to enrol again with: nothing reaches the API until "
                            "a renewal succeeds.");
        renewal_attempt(r);
        return 0;
}

/* (Re)arms both timers for the identity in use. */
static int renewal_schedule(Renewal *r)
{
        Manager *m = r->manager;
        usec_t not_after, start, at, accuracy;
        int k;

        if (!m->identity)
                return 0;
        if (r->scheduled_for != m->identity) {
                r->scheduled_for = m->identity;
                r->obtained = now(CLOCK_REALTIME);
        }
        not_after = tls_identity_get_not_after(m->identity);
        if (not_after == USEC_INFINITY)
                return 0;
        start = certificate_not_before(m->identity);
        if (start < r->obtained)
                start = r->obtained;
        at = start < not_after ? start + (not_after - start) / 3 * 2 : not_after;
        accuracy = start < not_after ? (not_after - start) / 100 : 1;
        accuracy = accuracy > USEC_PER_SEC ? USEC_PER_SEC : accuracy ?: 1;

        k = arm_timer(r, &r->renew_timer, CLOCK_REALTIME, at, accuracy, on_renew_timer, "renew-timer");
        if (k >= 0)
                k = arm_timer(r, &r->expiry_timer, CLOCK_REALTIME, not_after, 1, on_expiry_timer,
                              "certificate-expiry-timer");
        if (k < 0)
                return k;
        log_debug("Certificate renewal due in %lld s, expiry in %lld s.",
                  (long long)((int64_t)(at - now(CLOCK_REALTIME)) / (int64_t)USEC_PER_SEC),
                  (long long)((int64_t)(not_after - now(CLOCK_REALTIME)) / (int64_t)USEC_PER_SEC));
        return 0;
}

_printf_(3, 4) static void renewal_failed(Renewal *r, usec_t retry_after, const char *fmt, ...)
{
        usec_t delay = RENEW_BACKOFF_MAX, t = now(CLOCK_MONOTONIC);
        va_list ap;
        int k;

        va_start(ap, fmt);
        (void)vsnprintf(r->last_error, sizeof(r->last_error), fmt, ap);
        va_end(ap);
        if (r->failures++ == 0)
                backoff_start(&r->backoff, t);
        (void)backoff_next(&r->backoff, t, retry_after, &delay);
        log_warning("Certificate renewal failed (attempt %u): %s; retrying in %.1f s.", r->failures,
                    r->last_error, (double)delay / USEC_PER_SEC);
        k = arm_timer(r, &r->renew_timer, CLOCK_REALTIME, now(CLOCK_REALTIME) + delay, USEC_PER_MSEC,
                      on_renew_timer, "renew-timer");
        if (k < 0)
                log_error_errno(k, "Failed to arm the renewal timer, not renewing: %m");
}

/* Mirrors the new identity where the old one was persisted: the tmpfs TLS cache or the host store. */
static void renewal_persist(Renewal *r)
{
        Manager *m = r->manager;
        const char *dir = m->config->profile.state_dir;
        _cleanup_(tls_identity_freep) TlsIdentity *stored = NULL;
        _cleanup_(host_enrolment_done) HostEnrolment e = {};
        int k;

        if (m->tls_cache) {
                k = tls_cache_store(RUNTIME_DIR, m->tls_cache_tag, m->identity);
                if (k < 0)
                        log_warning_errno(k, "Failed to update the TLS cache in %s/tls, ignoring: %m",
                                          RUNTIME_DIR);
                else
                        log_info("Updated the TLS cache in %s/tls with the new certificate.", RUNTIME_DIR);
                return;
        }
        if (m->config->profile.credentials != CREDENTIALS_DISK || !dir)
                return;
        /* Only an enrolment the store holds for this very agent is replaced. */
        k = host_store_load(dir, &stored, &e);
        if (k <= 0 || !streq_ptr(e.agent_id, m->agent_id))
                return;
        e.expires_at = 0;
        k = host_store_save(dir, m->identity, &e);
        if (k < 0)
                log_warning_errno(k, "Failed to save the renewed certificate in %s, ignoring: %m", dir);
        else
                log_info("Saved the renewed certificate in %s.", dir);
}

static void renewal_resume_delivery(Manager *m)
{
        sink_set_api(m->sink, m->api);
}

static int on_swap_timer(sd_event_source *s, uint64_t usec, void *userdata);

static void renewal_try_swap(Renewal *r)
{
        Manager *m = r->manager;
        TlsIdentity *old;
        char until[64];
        int k;

        k = api_client_set_identity(m->api, r->pending);
        if (k == -EBUSY) {
                k = arm_timer(r, &r->swap_timer, CLOCK_MONOTONIC,
                              now(CLOCK_MONOTONIC) + RENEW_SWAP_RETRY_USEC, USEC_PER_MSEC, on_swap_timer,
                              "renew-swap-timer");
                if (k >= 0)
                        return;
        }
        if (k < 0) {
                r->pending = tls_identity_free(r->pending);
                renewal_resume_delivery(m);
                return renewal_failed(r, 0, "cannot use the new certificate: %s", strerror(-k));
        }

        old = m->identity;
        m->identity = TAKE_PTR(r->pending);
        tls_identity_free(old); /* the client's connections made with it are closed already */
        if (r->pending_agent_id[0] && !streq(r->pending_agent_id, m->agent_id)) {
                log_notice("The agent is now %s (was %s).", r->pending_agent_id, m->agent_id);
                snprintf(m->agent_id, sizeof(m->agent_id), "%s", r->pending_agent_id);
        }
        renewal_resume_delivery(m);
        r->renewals++;
        r->failures = 0;
        r->expired = false;
        r->last_error[0] = '\0';
        log_info("Renewed the certificate of agent %s, valid until %s.", m->agent_id,
                 format_rfc3339(tls_identity_get_not_after(m->identity), until, sizeof(until)));
        renewal_persist(r);
        k = renewal_schedule(r);
        if (k < 0)
                log_error_errno(k, "Failed to schedule the next renewal: %m");
}

static int on_swap_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        renewal_try_swap(userdata);
        return 0;
}

/* Takes a verified identity: pauses delivery and swaps it in as soon as the client is idle. */
static void renewal_install(Renewal *r, TlsIdentity *identity, const char *agent_id)
{
        tls_identity_free(r->pending);
        r->pending = identity;
        snprintf(r->pending_agent_id, sizeof(r->pending_agent_id), "%s", strempty(agent_id));
        sink_set_api(r->manager->sink, NULL);
        renewal_try_swap(r);
}

static void on_renew_done(int k, long status, const char *body, size_t body_size, const char *error_text,
                          void *userdata)
{
        Renewal *r = userdata;
        Manager *m = r->manager;
        _cleanup_(tls_identity_freep) TlsIdentity *candidate = TAKE_PTR(r->candidate);
        _cleanup_(enroll_response_done) EnrollResponse resp = {};
        _cleanup_free_ char *reason = NULL;
        usec_t retry_after = 0;
        const char *h;

        r->request_in_flight = false;
        if (k < 0)
                return renewal_failed(r, 0, "%s", error_text ?: strerror(-k));
        if (status != 200) {
                reason = enroll_error_text(status, body, body_size);
                h = api_client_retry_after(m->api);
                if (h)
                        (void)retry_after_parse(h, now(CLOCK_REALTIME), &retry_after);
                return renewal_failed(r, retry_after, "HTTP %ld: %s", status, strna(reason));
        }
        k = enroll_response_parse(body, body_size, &resp, &reason);
        if (k >= 0)
                k = tls_identity_set_certificate(candidate, resp.certificate, resp.ca_chain);
        if (k < 0)
                return renewal_failed(r, 0, "unusable answer: %s", reason ?: strerror(-k));
        k = tls_identity_verify(candidate, now(CLOCK_REALTIME));
        if (k < 0)
                return renewal_failed(r, 0, "unusable certificate: %s", tls_identity_verify_strerror(k));
        if (!streq(resp.agent_id, m->agent_id))
                return renewal_failed(r, 0, "the answer is for agent %s, not %s", resp.agent_id,
                                      m->agent_id);
        renewal_install(r, TAKE_PTR(candidate), resp.agent_id);
}

static void on_reenrolled(int k, TlsIdentity *identity, const char *error_text, void *userdata)
{
        Renewal *r = userdata;
        char agent_id[128];

        snprintf(agent_id, sizeof(agent_id), "%s",
                 strempty(r->enroll ? enroll_get_agent_id(r->enroll) : NULL));
        r->enroll = enroll_free(r->enroll);
        if (k < 0) {
                tls_identity_free(identity);
                return renewal_failed(r, 0, "enrolling again failed: %s", error_text ?: strerror(-k));
        }
        log_info("Enrolled again as agent %s.", agent_id);
        renewal_install(r, identity, agent_id);
}

/* After expiry, with a token: a new enrolment, as at start. 0 when started, -ENOKEY without a token. */
static int renewal_reenrol(Renewal *r)
{
        Manager *m = r->manager;
        const Settings *s = &m->config->settings;
        EnrollParams p = {
                .api_url = settings_str(s, SETTING_API_URL),
                .ca_file = settings_str(s, SETTING_CA_FILE),
                .tenant_id = settings_str(s, SETTING_TENANT_ID),
                .token = settings_str(s, SETTING_ENROLL_TOKEN),
                .workload_id = m->config->workload_id,
                .hostname = m->hostname,
                .mode = agent_mode_to_string(m->config->profile.mode),
                .agent_version = PACKAGE_VERSION,
                .give_up_usec = settings_uint(s, SETTING_ENROLL_TIMEOUT) * USEC_PER_SEC,
        };

        if (!p.token || enroll_params_check(&p))
                return -ENOKEY;
        return enroll_start(&r->enroll, m->event, &p, on_reenrolled, r);
}

static int renewal_request(Renewal *r)
{
        Manager *m = r->manager;
        _cleanup_json_ json_object *o = NULL;
        ApiRequest req = {.path = "/agent/renew", .timeout_usec = RENEW_REQUEST_TIMEOUT};
        const char *body;
        int k;

        k = tls_identity_generate(&r->candidate, m->config->workload_id);
        if (k < 0)
                return k;
        o = json_object_new_object();
        if (!o ||
            json_object_object_add(o, "csr", json_object_new_string(tls_identity_get_csr(r->candidate))) < 0)
                return -ENOMEM;
        body = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        req.body = body;
        req.body_size = strlen(body);
        k = api_client_post(m->api, &req, on_renew_done, r);
        if (k < 0)
                return k;
        r->request_in_flight = true;
        log_info("Renewing the certificate of agent %s.", m->agent_id);
        return 0;
}

static void renewal_attempt(Renewal *r)
{
        int k;

        if (r->request_in_flight || r->pending || r->enroll || !r->manager->api)
                return;
        if (r->expired) {
                k = renewal_reenrol(r);
                if (k >= 0)
                        return;
                if (k != -ENOKEY)
                        return renewal_failed(r, 0, "cannot enrol again: %s", strerror(-k));
        }
        k = renewal_request(r);
        if (k < 0) {
                r->candidate = tls_identity_free(r->candidate);
                renewal_failed(r, 0, "cannot send the request: %s", strerror(-k));
        }
}

int manager_start_renewal(Manager *m)
{
        Renewal *r = m->renewal;

        if (!r) {
                r = calloc(1, sizeof(*r));
                if (!r)
                        return -ENOMEM;
                r->manager = m;
                r->backoff = (Backoff){
                        .initial = RENEW_BACKOFF_INITIAL,
                        .max = RENEW_BACKOFF_MAX,
                        .multiplier = 2,
                        .give_up = USEC_INFINITY,
                        .jitter = BACKOFF_JITTER_FULL,
                        .random = backoff_random,
                };
                m->renewal = r;
        }
        return renewal_schedule(r);
}

void manager_stop_renewal(Manager *m)
{
        m->renewal = renewal_free(m->renewal);
}

void manager_get_renewal_state(const Manager *m, RenewalState *ret)
{
        const Renewal *r = m->renewal;

        *ret = (RenewalState){};
        if (!r)
                return;
        ret->renewals = r->renewals;
        ret->failures = r->failures;
        ret->last_error = r->last_error[0] ? r->last_error : NULL;
        ret->reenrolling = r->enroll;
}
