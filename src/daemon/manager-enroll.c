/* Enrolment inside the manager (ephemeral mode with a token).
 *
 * The enrolment runs on the loop like everything else; the sensors are already producing events while
 * it retries. Its result decides the process's fate: a refusal or giving up ends the agent with a status
 * of its own, success installs the in-memory identity and starts heartbeats over mTLS. */

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>

#include "config.h"
#include "core/exit-status.h"
#include "daemon/manager.h"
#include "identity/host-store.h"
#include "identity/tls-cache.h"
#include "net/api-client.h"
#include "net/enroll.h"
#include "sensors/sensors.h"
#include "ship/sink.h"
#include "util/log.h"

#include <gnutls/x509.h>

/* The backend names the agent in the certificate's CN; a reused cache has nothing else to say it. */
static void agent_id_from_certificate(const TlsIdentity *id, char *buf, size_t size)
{
        const char *pem = tls_identity_get_cert_pem(id);
        gnutls_datum_t d = {(unsigned char *)pem, pem ? (unsigned)strlen(pem) : 0};
        gnutls_x509_crt_t crt;

        buf[0] = 0;
        if (!pem || gnutls_x509_crt_init(&crt) < 0)
                return;
        if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) >= 0)
                (void)gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &size);
        gnutls_x509_crt_deinit(crt);
}

/* Installs a verified identity (fresh or from the cache) and starts the mTLS heartbeats. */
static int manager_use_identity(Manager *m, TlsIdentity *identity)
{
        const Settings *s = &m->config->settings;
        int r;

        m->identity = identity;
        if (!m->agent_id[0])
                agent_id_from_certificate(identity, m->agent_id, sizeof(m->agent_id));
        r = api_client_new(&m->api, m->event, settings_str(s, SETTING_API_URL),
                           settings_str(s, SETTING_CA_FILE));
        if (r >= 0)
                r = api_client_set_identity(m->api, m->identity);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the mTLS client: %m");

        log_info("Agent %s, certificate valid for %llu s more; identity kept in memory only.", m->agent_id,
                 (unsigned long long)((tls_identity_get_not_after(m->identity) - now(CLOCK_REALTIME)) /
                                      USEC_PER_SEC));
        sink_set_api(m->sink, m->api);
        r = manager_start_renewal(m);
        if (r < 0)
                log_warning_errno(r, "Failed to schedule certificate renewal, ignoring: %m");
        manager_send_api_heartbeat(m);
        return 0;
}

static void on_enrolled(int r, TlsIdentity *identity, const char *error_text, void *userdata)
{
        Manager *m = userdata;
        const char *agent_id = m->enroll ? enroll_get_agent_id(m->enroll) : NULL;

        snprintf(m->agent_id, sizeof(m->agent_id), "%s", strempty(agent_id));
        m->enroll = enroll_free(m->enroll);

        if (r < 0) {
                log_error("Enrolment failed: %s", error_text ?: strerror(-r));
                /* Retries that ran out of time gave up; any other end is the backend's refusal. */
                (void)sd_event_exit(m->event, manager_identity_exit_status(r == -ETIMEDOUT ? r : -EACCES));
                return;
        }
        log_info("Enrolled as agent %s.", m->agent_id);

        if (m->tls_cache) {
                r = tls_cache_store(RUNTIME_DIR, m->tls_cache_tag, identity);
                if (r < 0)
                        log_warning_errno(r,
                                          "Failed to seed the TLS cache in %s/tls, the next start will "
                                          "enrol again: %m",
                                          RUNTIME_DIR);
                else
                        log_info("Seeded the TLS cache in %s/tls.", RUNTIME_DIR);
        }

        r = manager_use_identity(m, identity);
        if (r < 0)
                (void)sd_event_exit(m->event, manager_identity_exit_status(r));
}

static int start_enrolment(Manager *m)
{
        EnrollParams p = enroll_params_from_config(
                m->config, settings_str(&m->config->settings, SETTING_ENROLL_TOKEN), m->hostname);
        const char *why = enroll_params_check(&p);
        int r;

        if (why) {
                log_error("%s", why);
                return -EACCES;
        }
        log_info("Enrolling into tenant %s at %s as workload %s.", p.tenant_id, p.api_url, p.workload_id);
        r = enroll_start(&m->enroll, m->event, &p, on_enrolled, m);
        if (r == -EINVAL)
                return -EACCES; /* parameters the enrolment cannot be made with */
        if (r < 0)
                return log_error_errno(r, "Failed to start enrolment: %m");
        return 0;
}

/* The cache is usable only when its tag proves it belongs to this token and workload. */
static int try_tls_cache(Manager *m, const char *token, TlsIdentity **ret)
{
        const Settings *s = &m->config->settings;
        const char *tag = settings_str(s, SETTING_ENROLL_TOKEN_TAG);
        char message[1024] = "";
        int r = 0;

        if (!token && !tag) {
                log_error("%s", TLS_CACHE_NEEDS_TOKEN_MESSAGE);
                return -EINVAL;
        }
        r = tls_cache_check_memory_fs(RUNTIME_DIR, message, sizeof(message));
        if (r < 0) {
                log_error("%s", message);
                return r;
        }
        if (token)
                r = tls_cache_tag(token, m->config->workload_id, m->tls_cache_tag);
        else
                for (size_t i = 0; i < sizeof(m->tls_cache_tag); i++)
                        m->tls_cache_tag[i] = (char)tolower((unsigned char)tag[i]);
        if (r < 0)
                return log_error_errno(r, "Failed to compute the TLS cache tag: %m");
        m->tls_cache = true;

        r = tls_cache_load(RUNTIME_DIR, m->tls_cache_tag, now(CLOCK_REALTIME), ret, message,
                           sizeof(message));
        if (r < 0)
                log_error("%s", message);
        else if (r == 0 && message[0])
                log_info("Not reusing the TLS cache: %s", message);
        return r;
}

int manager_start_ephemeral_identity(Manager *m)
{
        const Settings *s = &m->config->settings;
        const char *token = settings_str(s, SETTING_ENROLL_TOKEN);
        TlsIdentity *cached = NULL;
        int r;

        if (settings_bool(s, SETTING_TLS_CACHE)) {
                r = try_tls_cache(m, token, &cached);
                if (r < 0)
                        return -ENOKEY; /* logged there, with the reason */
                if (r > 0) {
                        log_info(
                                "Reusing the TLS cache in %s/tls (tag matches, chain valid); not enrolling.",
                                RUNTIME_DIR);
                        return manager_use_identity(m, cached);
                }
                if (!token) {
                        log_error("The TLS cache cannot be reused and there is no enrolment token to enrol "
                                  "again: "
                                  "set LINUXGUARD_ENROLL_TOKEN.");
                        return -ENOKEY;
                }
        }
        if (!token)
                return 0; /* nothing to enrol with: local output only */
        return start_enrolment(m);
}

int manager_identity_exit_status(int error)
{
        switch (error) {
        case -EACCES:
                return EXIT_ENROLL_REFUSED;
        case -ETIMEDOUT:
                return EXIT_ENROLL_GAVE_UP;
        case -ENOKEY:
                return EXIT_TLS_CACHE;
        default:
                return EXIT_RUNTIME;
        }
}

void manager_stop_enrolment(Manager *m)
{
        manager_stop_renewal(m);
        m->enroll = enroll_free(m->enroll);
        m->api = api_client_free(m->api);
        /* Wipes the key pages and closes the memfds libcurl read them from. */
        m->identity = tls_identity_free(m->identity);
}

int manager_start_host_identity(Manager *m)
{
        _cleanup_(host_enrolment_done) HostEnrolment e = {};
        const char *dir = m->config->profile.state_dir;
        TlsIdentity *id = NULL;
        int r;

        r = host_store_load(dir, &id, &e);
        if (r == 0) {
                log_notice("This host is not enrolled, so events stay on the local output. Enrol it with "
                           "'linuxguard enroll --tenant-id TENANT' (token from the enroll-token credential, "
                           "--enroll-token-file or standard input).");
                return 0;
        }
        if (r < 0) {
                log_warning_errno(r,
                                  "The enrolment stored in %s is unusable, running unenrolled; enrol again "
                                  "with 'linuxguard enroll': %m",
                                  dir);
                return 0;
        }
        r = tls_identity_verify(id, now(CLOCK_REALTIME));
        if (r < 0) {
                log_warning(
                        "The certificate stored in %s cannot be used (%s), running unenrolled; enrol again "
                        "with 'linuxguard enroll'.",
                        dir, tls_identity_verify_strerror(r));
                tls_identity_free(id);
                return 0;
        }
        snprintf(m->agent_id, sizeof(m->agent_id), "%s", strempty(e.agent_id));
        log_info("Using the enrolment stored in %s (tenant %s).", dir, strna(e.tenant_id));
        return manager_use_identity(m, id);
}
