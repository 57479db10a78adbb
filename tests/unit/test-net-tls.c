/* Real TLS on 127.0.0.1: enrolment and an mTLS heartbeat against a small GnuTLS server running in a
 * thread of the test, which answers from a script (503s, cut connections, 401, malformed JSON, a
 * signed certificate) and records what it received. Also pins down how libcurl-gnutls 7.88 combines
 * CURLOPT_CAINFO and CURLOPT_CAPATH. */

#include <arpa/inet.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "check-tap.h"
#include "net/api-client.h"
#include "net/curl-glue.h"
#include "net/enroll.h"
#include "test-pki.h"

#define WORKLOAD_ID  "5f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define TOKEN        "98765432"
#define MAX_REQUESTS 16

typedef enum ReplyKind {
        REPLY_RAW,       /* send `raw` as the whole HTTP response */
        REPLY_CUT,       /* promise a body, send half of it, drop the connection */
        REPLY_ENROLL_OK, /* sign the CSR of the request, answer 201 */
} ReplyKind;

typedef struct Reply {
        ReplyKind kind;
        const char *raw;
} Reply;

typedef struct Server {
        int listen_fd;
        uint16_t port;
        pthread_t thread;
        gnutls_certificate_credentials_t cred;
        bool require_client_cert;
        TestCa *signer;
        Reply script[8];
        size_t n_script;
        atomic_uint n_requests;
        atomic_uint n_handshake_failures;
        char *requests[MAX_REQUESTS];
        char peer_cn[128];
} Server;

static TestCa server_ca, other_ca, client_ca;
static char ca_file[64], other_ca_file[64], ca_dir[64];

static void write_temp(char *path, const char *data)
{
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, data, strlen(data)), (ssize_t)strlen(data));
        close(fd);
}

static void setup(void)
{
        char path[128];

        test_ca_init(&server_ca, "server CA");
        test_ca_init(&other_ca, "other CA");
        test_ca_init(&client_ca, "client CA");
        strcpy(ca_file, "/tmp/test-net-tls-ca-XXXXXX");
        strcpy(other_ca_file, "/tmp/test-net-tls-other-XXXXXX");
        strcpy(ca_dir, "/tmp/test-net-tls-dir-XXXXXX");
        write_temp(ca_file, server_ca.pem);
        write_temp(other_ca_file, other_ca.pem);
        ck_assert_ptr_nonnull(mkdtemp(ca_dir));
        snprintf(path, sizeof(path), "%s/ca.pem", ca_dir);
        {
                _cleanup_fclose_ FILE *f = fopen(path, "we");
                ck_assert_ptr_nonnull(f);
                fputs(server_ca.pem, f);
        }
}

static void teardown(void)
{
        char path[128];

        snprintf(path, sizeof(path), "%s/ca.pem", ca_dir);
        unlink(path);
        rmdir(ca_dir);
        unlink(ca_file);
        unlink(other_ca_file);
        test_ca_done(&server_ca);
        test_ca_done(&other_ca);
        test_ca_done(&client_ca);
}

static ssize_t tls_read_request(gnutls_session_t ses, char *buf, size_t size)
{
        size_t n = 0, want = SIZE_MAX;

        while (n < size - 1 && n < want) {
                ssize_t k = gnutls_record_recv(ses, buf + n, size - 1 - n);
                char *end, *cl;
                if (k == GNUTLS_E_AGAIN || k == GNUTLS_E_INTERRUPTED)
                        continue;
                if (k <= 0)
                        return -1;
                n += (size_t)k;
                buf[n] = 0;
                end = strstr(buf, "\r\n\r\n");
                if (end && want == SIZE_MAX) {
                        cl = strcasestr(buf, "\r\nContent-Length:");
                        want = (size_t)(end + 4 - buf) + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
                }
        }
        return (ssize_t)n;
}

static void tls_send(gnutls_session_t ses, const char *data, size_t size)
{
        while (size > 0) {
                ssize_t k = gnutls_record_send(ses, data, size);
                if (k == GNUTLS_E_AGAIN || k == GNUTLS_E_INTERRUPTED)
                        continue;
                if (k <= 0)
                        return;
                data += k;
                size -= (size_t)k;
        }
}

static void send_response(gnutls_session_t ses, const char *status, const char *body)
{
        _cleanup_free_ char *msg = NULL;
        int n = asprintf(&msg,
                         "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                         "Connection: close\r\n\r\n%s",
                         status, strlen(body), body);
        ck_assert_int_gt(n, 0);
        tls_send(ses, msg, (size_t)n);
}

static void reply_enroll_ok(Server *s, gnutls_session_t ses, const char *request)
{
        const char *body = strstr(request, "\r\n\r\n") + 4;
        json_object *req = json_tokener_parse(body), *csr, *answer = json_object_new_object();
        time_t t = time(NULL);
        _cleanup_free_ char *cert = NULL;

        ck_assert_ptr_nonnull(req);
        ck_assert(json_object_object_get_ex(req, "csr", &csr));
        cert = test_ca_sign_csr(s->signer, json_object_get_string(csr), t - 60, t + 3600);
        json_object_object_add(answer, "agentId", json_object_new_string("agent-1"));
        json_object_object_add(answer, "certificate", json_object_new_string(cert));
        json_object_object_add(answer, "caChain", json_object_new_string(s->signer->pem));
        json_object_object_add(answer, "expiresAt", json_object_new_string("2099-01-01T00:00:00Z"));
        send_response(ses, "201 Created", json_object_to_json_string(answer));
        json_object_put(answer);
        json_object_put(req);
}

static void record_peer(Server *s, gnutls_session_t ses)
{
        const gnutls_datum_t *certs;
        unsigned n = 0;
        gnutls_x509_crt_t crt;
        size_t size = sizeof(s->peer_cn);

        certs = gnutls_certificate_get_peers(ses, &n);
        if (!certs || n == 0 || gnutls_x509_crt_init(&crt) < 0)
                return;
        if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) >= 0)
                (void)gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, s->peer_cn,
                                                    &size);
        gnutls_x509_crt_deinit(crt);
}

static void server_handle(Server *s, int fd)
{
        gnutls_session_t ses;
        char buf[65536];
        unsigned idx;
        const Reply *reply;
        int r;

        ck_assert_int_ge(gnutls_init(&ses, GNUTLS_SERVER), 0);
        ck_assert_int_ge(gnutls_set_default_priority(ses), 0);
        ck_assert_int_ge(gnutls_credentials_set(ses, GNUTLS_CRD_CERTIFICATE, s->cred), 0);
        if (s->require_client_cert) {
                gnutls_certificate_server_set_request(ses, GNUTLS_CERT_REQUIRE);
                gnutls_session_set_verify_cert(ses, NULL, 0);
        }
        gnutls_transport_set_int(ses, fd);
        gnutls_handshake_set_timeout(ses, 5000);
        do
                r = gnutls_handshake(ses);
        while (r < 0 && !gnutls_error_is_fatal(r));
        if (r < 0) {
                s->n_handshake_failures++;
                goto out;
        }
        if (tls_read_request(ses, buf, sizeof(buf)) <= 0)
                goto out;

        /* Counted and recorded before the reply goes out: the client may check as soon as it has it. */
        idx = s->n_requests++;
        if (idx < MAX_REQUESTS)
                s->requests[idx] = strdup(buf);
        record_peer(s, ses);
        reply = &s->script[idx < s->n_script ? idx : s->n_script - 1];
        switch (reply->kind) {
        case REPLY_RAW:
                tls_send(ses, reply->raw, strlen(reply->raw));
                break;
        case REPLY_CUT: {
                static const char partial[] =
                        "HTTP/1.1 201 Created\r\nContent-Length: 400\r\n\r\n{\"agentId\":";
                tls_send(ses, partial, strlen(partial));
                break;
        }
        case REPLY_ENROLL_OK:
                reply_enroll_ok(s, ses, buf);
                break;
        }
        if (reply->kind != REPLY_CUT)
                (void)gnutls_bye(ses, GNUTLS_SHUT_WR);
out:
        gnutls_deinit(ses);
}

static void *server_main(void *userdata)
{
        Server *s = userdata;

        for (;;) {
                int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        break;
                }
                server_handle(s, fd);
                close(fd);
        }
        return NULL;
}

static void server_start(Server *s, TestCa *cert_issuer, const Reply *script, size_t n_script)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(sa);
        _cleanup_free_ char *key = NULL, *cert = NULL;
        gnutls_datum_t dk, dc;

        *s = (Server){.n_script = n_script, .signer = &client_ca};
        memcpy(s->script, script, n_script * sizeof(Reply));
        cert = test_ca_sign_server(cert_issuer, &key);
        dk = (gnutls_datum_t){.data = (unsigned char *)key, .size = (unsigned)strlen(key)};
        dc = (gnutls_datum_t){.data = (unsigned char *)cert, .size = (unsigned)strlen(cert)};
        ck_assert_int_ge(gnutls_certificate_allocate_credentials(&s->cred), 0);
        ck_assert_int_ge(gnutls_certificate_set_x509_key_mem(s->cred, &dc, &dk, GNUTLS_X509_FMT_PEM), 0);
        {
                gnutls_datum_t ca = {.data = (unsigned char *)client_ca.pem,
                                     .size = (unsigned)strlen(client_ca.pem)};
                ck_assert_int_ge(gnutls_certificate_set_x509_trust_mem(s->cred, &ca, GNUTLS_X509_FMT_PEM),
                                 1);
        }

        s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(s->listen_fd, 0);
        ck_assert_int_eq(bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        ck_assert_int_eq(listen(s->listen_fd, 16), 0);
        ck_assert_int_eq(getsockname(s->listen_fd, (struct sockaddr *)&sa, &len), 0);
        s->port = ntohs(sa.sin_port);
        ck_assert_int_eq(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_stop(Server *s)
{
        shutdown(s->listen_fd, SHUT_RDWR);
        pthread_join(s->thread, NULL);
        close(s->listen_fd);
        gnutls_certificate_free_credentials(s->cred);
        for (size_t i = 0; i < MAX_REQUESTS; i++)
                free(s->requests[i]);
}

static char *server_url(const Server *s)
{
        char *url;
        ck_assert_int_gt(asprintf(&url, "https://127.0.0.1:%u/", s->port), 0);
        return url;
}

typedef struct Result {
        bool done;
        int r;
        TlsIdentity *identity;
        char *text;
        long status;
        char *body;
} Result;

static void on_enrolled(int r, TlsIdentity *identity, const char *error_text, void *userdata)
{
        Result *res = userdata;

        res->done = true;
        res->r = r;
        res->identity = identity;
        res->text = error_text ? strdup(error_text) : NULL;
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata)
{
        ck_abort_msg("event loop did not finish in time");
        return 0;
}

static void run_until(sd_event *e, const Result *res)
{
        _cleanup_(sd_event_source_unrefp) sd_event_source *watchdog = NULL;

        ck_assert_int_ge(sd_event_add_time_relative(e, &watchdog, CLOCK_MONOTONIC, 30 * USEC_PER_SEC, 0,
                                                    on_watchdog, NULL),
                         0);
        while (!res->done)
                ck_assert_int_ge(sd_event_run(e, UINT64_MAX), 0);
}

static EnrollParams params(const char *url, const char *ca)
{
        return (EnrollParams){
                .api_url = url,
                .ca_file = ca,
                .tenant_id = "tenant-1",
                .token = TOKEN,
                .workload_id = WORKLOAD_ID,
                .hostname = "node-a",
                .mode = "ephemeral",
                .agent_version = "0.1.0",
                .give_up_usec = 20 * USEC_PER_SEC,
                .backoff_initial_usec = 10 * USEC_PER_MSEC,
                .backoff_max_usec = 50 * USEC_PER_MSEC,
        };
}

static void result_done(Result *res)
{
        tls_identity_free(res->identity);
        free(res->text);
        free(res->body);
}

static void on_api_done(int r, long status, const char *body, size_t size, const char *error_text,
                        void *userdata)
{
        Result *res = userdata;

        res->done = true;
        res->r = r;
        res->status = status;
        res->body = strndup(body, size);
        res->text = error_text ? strdup(error_text) : NULL;
}

static Result heartbeat(sd_event *e, const char *url, const TlsIdentity *id)
{
        _cleanup_(api_client_freep) ApiClient *c = NULL;
        Result res = {};

        ck_assert_int_eq(api_client_new(&c, e, url, ca_file), 0);
        if (id)
                ck_assert_int_eq(api_client_set_identity(c, id), 0);
        ck_assert_int_eq(api_client_heartbeat(c, "{\"agentId\":\"agent-1\"}", on_api_done, &res), 0);
        ck_assert_uint_eq(api_client_n_pending(c), 1);
        run_until(e, &res);
        ck_assert_uint_eq(api_client_n_pending(c), 0);
        return res;
}

START_TEST(test_enroll_retries_then_heartbeat)
{
        static const Reply script[] = {
                {REPLY_RAW, "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 16\r\n"
                            "Connection: close\r\n\r\n{\"error\":\"busy\"}"},
                {REPLY_CUT, NULL},
                {REPLY_RAW,
                 "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"},
                {REPLY_ENROLL_OK, NULL},
        };
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(enroll_freep) Enroll *en = NULL;
        _cleanup_free_ char *url = NULL;
        EnrollParams p;
        Server s;
        Result res = {}, hb, anon;
        const char *body0;

        server_start(&s, &server_ca, script, ELEMENTSOF(script));
        url = server_url(&s);
        p = params(url, ca_file);
        ck_assert_int_ge(sd_event_new(&e), 0);
        ck_assert_int_eq(enroll_start(&en, e, &p, on_enrolled, &res), 0);
        run_until(e, &res);

        ck_assert_msg(res.r == 0, "enrolment failed: %d %s", res.r, strna(res.text));
        ck_assert_ptr_nonnull(res.identity);
        ck_assert_int_eq(tls_identity_verify(res.identity, now(CLOCK_REALTIME)), 0);
        ck_assert_str_eq(enroll_get_agent_id(en), "agent-1");
        ck_assert_uint_eq(enroll_get_attempts(en), 4);
        ck_assert_uint_eq(s.n_requests, 4);

        /* Every attempt sent the same body and the Idempotency-Key. */
        body0 = strstr(s.requests[0], "\r\n\r\n");
        ck_assert_ptr_nonnull(body0);
        for (size_t i = 0; i < 4; i++) {
                ck_assert_ptr_nonnull(strstr(s.requests[i], "POST /agent/enroll HTTP/1.1\r\n"));
                ck_assert_ptr_nonnull(strcasestr(s.requests[i], "\r\nIdempotency-Key: " WORKLOAD_ID "\r\n"));
                ck_assert_ptr_nonnull(strcasestr(s.requests[i], "\r\nContent-Type: application/json\r\n"));
                ck_assert_str_eq(strstr(s.requests[i], "\r\n\r\n"), body0);
        }
        enroll_free(TAKE_PTR(en));

        /* The issued identity works for mTLS; the server saw our workload id as the client's CN. */
        server_stop(&s);
        static const Reply ok[] = {{REPLY_RAW,
                                    "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\n"
                                    "{\"ok\":true}"}};
        server_start(&s, &server_ca, ok, 1);
        s.require_client_cert = true;
        free(url);
        url = server_url(&s);
        hb = heartbeat(e, url, res.identity);
        ck_assert_msg(hb.r == 0, "heartbeat failed: %d %s", hb.r, strna(hb.text));
        ck_assert_int_eq(hb.status, 200);
        ck_assert_str_eq(hb.body, "{\"ok\":true}");
        ck_assert_str_eq(s.peer_cn, WORKLOAD_ID);
        ck_assert_ptr_nonnull(strstr(s.requests[0], "POST /agent/heartbeat HTTP/1.1\r\n"));
        result_done(&hb);

        /* Without a client certificate the server refuses the handshake. The client may see the
         * alert before the server thread counts the failure: count after joining it. */
        anon = heartbeat(e, url, NULL);
        ck_assert_int_lt(anon.r, 0);
        result_done(&anon);
        server_stop(&s);
        ck_assert_uint_eq(s.n_handshake_failures, 1);
        ck_assert_uint_eq(s.n_requests, 1);
        result_done(&res);
}
END_TEST

static Result enroll_against(const Reply *script, size_t n, TestCa *server_issuer, const char *trust,
                             usec_t give_up, unsigned *ret_requests)
{
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(enroll_freep) Enroll *en = NULL;
        _cleanup_free_ char *url = NULL;
        EnrollParams p;
        Server s;
        Result res = {};

        server_start(&s, server_issuer, script, n);
        url = server_url(&s);
        p = params(url, trust);
        if (give_up)
                p.give_up_usec = give_up;
        ck_assert_int_ge(sd_event_new(&e), 0);
        ck_assert_int_eq(enroll_start(&en, e, &p, on_enrolled, &res), 0);
        run_until(e, &res);
        server_stop(&s);
        *ret_requests = s.n_requests;
        return res;
}

START_TEST(test_enroll_401_verbatim)
{
        static const Reply script[] = {
                {REPLY_RAW, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 45\r\n"
                            "Connection: close\r\n\r\n{\"error\":\"token expired or invalid (step 7)\"}"}};
        unsigned n;
        Result res = enroll_against(script, 1, &server_ca, ca_file, 0, &n);

        ck_assert_int_eq(res.r, -EACCES);
        ck_assert_str_eq(res.text, "token expired or invalid (step 7)");
        ck_assert_ptr_null(res.identity);
        ck_assert_uint_eq(n, 1);
        result_done(&res);
}
END_TEST

START_TEST(test_enroll_400_tenant)
{
        static const Reply script[] = {
                {REPLY_RAW,
                 "HTTP/1.1 400 Bad Request\r\nContent-Length: 49\r\n"
                 "Connection: close\r\n\r\n{\"error\":\"tenantId required for TOTP enrollment\"}"}};
        unsigned n;
        Result res = enroll_against(script, 1, &server_ca, ca_file, 0, &n);

        ck_assert_int_eq(res.r, -EPERM);
        ck_assert_str_eq(res.text, "tenantId required for TOTP enrollment");
        ck_assert_uint_eq(n, 1);
        result_done(&res);
}
END_TEST

START_TEST(test_enroll_malformed_answer)
{
        static const Reply script[] = {{REPLY_RAW, "HTTP/1.1 201 Created\r\nContent-Length: 10\r\n"
                                                   "Connection: close\r\n\r\n{\"agentId\""}};
        unsigned n;
        Result res = enroll_against(script, 1, &server_ca, ca_file, 0, &n);

        ck_assert_int_eq(res.r, -EBADMSG);
        ck_assert_ptr_nonnull(strstr(res.text, "malformed enrollment answer"));
        ck_assert_ptr_nonnull(strstr(res.text, "not valid JSON"));
        ck_assert_uint_eq(n, 1);
        result_done(&res);
}
END_TEST

/* A body past 1 MiB once ended with libcurl's "Failure writing output to destination". */
static char *oversized_reply(const char *status)
{
        size_t body = CURL_GLUE_RESPONSE_MAX + 1;
        char *raw = NULL;
        int n = asprintf(&raw, "HTTP/1.1 %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status,
                         body);

        ck_assert_int_gt(n, 0);
        raw = realloc(raw, (size_t)n + body + 1);
        ck_assert_ptr_nonnull(raw);
        memset(raw + n, 'x', body);
        raw[(size_t)n + body] = '\0';
        return raw;
}

START_TEST(test_oversized_answer)
{
        _cleanup_free_ char *enroll_raw = oversized_reply("201 Created"),
                            *api_raw = oversized_reply("200 OK");
        const Reply script[] = {{REPLY_RAW, enroll_raw}};
        unsigned n;
        Result res = enroll_against(script, 1, &server_ca, ca_file, 0, &n);

        ck_assert_int_eq(res.r, -EIO);
        ck_assert_ptr_nonnull(strstr(res.text, "the backend's answer exceeds 1 MiB"));
        result_done(&res);

        {
                _cleanup_(sd_event_unrefp) sd_event *e = NULL;
                const Reply api_script[] = {{REPLY_RAW, api_raw}};
                _cleanup_free_ char *url = NULL;
                Server srv;

                server_start(&srv, &server_ca, api_script, 1);
                url = server_url(&srv);
                ck_assert_int_ge(sd_event_new(&e), 0);
                res = heartbeat(e, url, NULL);
                server_stop(&srv);
                ck_assert_int_eq(res.r, -EIO);
                ck_assert_str_eq(res.text, "the backend's answer exceeds 1 MiB");
                result_done(&res);
        }
}
END_TEST

START_TEST(test_enroll_wrong_server_ca)
{
        static const Reply script[] = {{REPLY_ENROLL_OK, NULL}};
        unsigned n;
        Result res = enroll_against(script, 1, &server_ca, other_ca_file, 0, &n);

        ck_assert_int_eq(res.r, -EKEYREJECTED);
        ck_assert_ptr_nonnull(strstr(res.text, "--ca-file"));
        ck_assert_ptr_nonnull(strstr(res.text, other_ca_file));
        ck_assert_uint_eq(n, 0);
        result_done(&res);
}
END_TEST

START_TEST(test_enroll_cut_gives_up)
{
        static const Reply script[] = {{REPLY_CUT, NULL}};
        unsigned n;
        Result res = enroll_against(script, 1, &server_ca, ca_file, 1 * USEC_PER_SEC, &n);

        ck_assert_int_eq(res.r, -ETIMEDOUT);
        ck_assert_ptr_nonnull(strstr(res.text, "gave up"));
        ck_assert_uint_gt(n, 1);
        result_done(&res);
}
END_TEST

START_TEST(test_enroll_refused_locally)
{
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        Enroll *en = NULL;
        EnrollParams p = params("https://127.0.0.1:1/", NULL);
        Result res = {};

        p.tenant_id = NULL;
        ck_assert_str_eq(enroll_params_check(&p), "tenantId required for TOTP enrollment");
        ck_assert_int_ge(sd_event_new(&e), 0);
        ck_assert_int_eq(enroll_start(&en, e, &p, on_enrolled, &res), -EINVAL);
        ck_assert_ptr_null(en);
        ck_assert(!res.done);
        p = params("https://127.0.0.1:1/", NULL);
        p.workload_id = "x\r\nInjected: 1";
        ck_assert_ptr_nonnull(enroll_params_check(&p));
}
END_TEST

/* What libcurl-gnutls 7.88 does with the two trust options: CAPATH adds to CAINFO, so a private CA
 * file alone is only the sole trust when CAPATH is cleared, which curl_glue_set_trust() does. */
static size_t discard(char *data, size_t size, size_t nmemb, void *userdata)
{
        return size * nmemb;
}

static CURLcode fetch(const char *url, const char *cainfo, const char *capath, bool glue_trust)
{
        _cleanup_(curl_easy_cleanupp) CURL *c = NULL;

        ck_assert_int_eq(curl_glue_make(&c, url, NULL), 0);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        if (glue_trust)
                ck_assert_int_eq(curl_glue_set_trust(c, cainfo), 0);
        else {
                curl_easy_setopt(c, CURLOPT_CAINFO, cainfo);
                curl_easy_setopt(c, CURLOPT_CAPATH, capath);
        }
        return curl_easy_perform(c);
}

START_TEST(test_trust_options)
{
        static const Reply ok[] = {
                {REPLY_RAW, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"}};
        _cleanup_free_ char *url = NULL;
        Server s;

        server_start(&s, &server_ca, ok, 1);
        url = server_url(&s);
        ck_assert_int_eq(fetch(url, ca_file, NULL, true), CURLE_OK);
        ck_assert_int_eq(fetch(url, other_ca_file, NULL, true), CURLE_PEER_FAILED_VERIFICATION);
        /* The server's CA only in the directory: trusted although CAINFO names another CA. */
        ck_assert_int_eq(fetch(url, other_ca_file, ca_dir, false), CURLE_OK);
        ck_assert_int_eq(fetch(url, other_ca_file, NULL, false), CURLE_PEER_FAILED_VERIFICATION);
        /* Plain http is refused outright. */
        ck_assert_int_eq(fetch("http://127.0.0.1:1/", ca_file, NULL, true), CURLE_UNSUPPORTED_PROTOCOL);
        server_stop(&s);
}
END_TEST

static Suite *net_tls_suite(void)
{
        Suite *s = suite_create("net-tls");
        TCase *tc = tcase_create("tls");

        tcase_set_timeout(tc, 60);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_enroll_retries_then_heartbeat);
        tcase_add_test(tc, test_enroll_401_verbatim);
        tcase_add_test(tc, test_enroll_400_tenant);
        tcase_add_test(tc, test_enroll_malformed_answer);
        tcase_add_test(tc, test_oversized_answer);
        tcase_add_test(tc, test_enroll_wrong_server_ca);
        tcase_add_test(tc, test_enroll_cut_gives_up);
        tcase_add_test(tc, test_enroll_refused_locally);
        tcase_add_test(tc, test_trust_options);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(net_tls_suite)
