/* HTTPS front of the reference backend.
 *
 * libmicrohttpd runs one thread per connection, so an injected delay stalls only its own client; the
 * endpoint logic, the fault counters and requests.log sit behind one mutex, which keeps every
 * read-then-write on the state directory race-free without per-file locking. Client certificates are
 * requested, not required, at the TLS layer (MHD_OPTION_HTTPS_MEM_TRUST makes MHD send a
 * CertificateRequest), and checked per request on the endpoints that need them: chain to our CA,
 * client-auth purpose, validity window. That lets /agent/enroll share the port with the mTLS endpoints.
 * The main thread only waits for SIGTERM/SIGINT in sd-event. */

#include "backend-server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>
#include <zlib.h>

#include "backend-api.h"
#include "backend-faults.h"
#include "backend-state.h"
#include "util/log.h"

typedef struct Server {
        ServerConfig cfg;
        Backend backend;
        Pki *pki;     /* ours: signs agents, is the trust anchor for client certificates */
        Pki *tls_pki; /* whose server certificate we present: `pki`, or the impostor CA's */
        char *bad_crt_pem, *bad_key_pem; /* --serve-cert: presented instead of tls_pki's */
        pthread_mutex_t lock;
        struct MHD_Daemon *daemon;
        sd_event *event;
        sd_event_source *sigterm_source;
        sd_event_source *sigint_source;
        char *url;
} Server;

/* Per-request state, from the first call of the access handler to MHD's completion callback. */
typedef struct RequestState {
        char *body;
        size_t size, alloc;
        bool too_large;
        bool responded; /* a response is queued; swallow whatever MHD still hands us */
} RequestState;

typedef int (*Handler)(const Backend *b, const ApiRequest *req, ApiResponse *resp);

static const struct Route {
        const char *path;
        Handler handler;
        bool mtls;
} routes[] = {
        {"/agent/enroll", api_enroll, false},
        {"/agent/events", api_events, true},
        {"/agent/heartbeat", api_heartbeat, true},
        {"/agent/renew", api_renew, true},
};

static const struct Route *route_find(const char *path)
{
        FOREACH_ARRAY (r, routes, ELEMENTSOF(routes))
                if (streq(r->path, path))
                        return r;
        return NULL;
}

static void requests_log(Server *s, const char *method, const char *url, unsigned status)
{
        _cleanup_free_ char *path = state_path(s->cfg.state_dir, "requests.log", NULL), *line = NULL;
        int r;

        if (!path || asprintf(&line, "%s %s %u\n", method, url, status) < 0) {
                log_oom();
                return;
        }
        r = append_file(path, line, strlen(line));
        if (r < 0)
                log_warning_errno(r, "Failed to append to %s, ignoring: %m", path);
}

/* Serves the first half of the body, then fails the transfer: the client sees a cut connection. */
typedef struct CutBody {
        char *data;
        size_t size;
} CutBody;

static ssize_t cut_body_read(void *cls, uint64_t pos, char *buf, size_t max)
{
        CutBody *cb = cls;
        size_t half = cb->size / 2, n;

        if (pos >= half)
                return MHD_CONTENT_READER_END_WITH_ERROR;
        n = half - (size_t)pos < max ? half - (size_t)pos : max;
        memcpy(buf, cb->data + pos, n);
        return (ssize_t)n;
}

static void cut_body_free(void *cls)
{
        CutBody *cb = cls;

        free(cb->data);
        free(cb);
}

static void sleep_ms(unsigned ms);

/* A JSON string that goes on: 50 MB with a Content-Length, or without end (chunked), a chunk at a time. */
static ssize_t hostile_body_read(void *cls, uint64_t pos, char *buf, size_t max)
{
        bool endless = cls != NULL;

        if (!endless && pos >= FAULT_HUGE_BODY_SIZE)
                return MHD_CONTENT_READER_END_OF_STREAM;
        if (!endless && max > FAULT_HUGE_BODY_SIZE - pos)
                max = (size_t)(FAULT_HUGE_BODY_SIZE - pos);
        if (endless) {
                if (max > 64)
                        max = 64;
                sleep_ms(10); /* a trickle: never done, never idle long enough to time out */
        }
        memset(buf, 'A', max);
        if (pos == 0 && max >= 9)
                memcpy(buf, "{\"agentId\":\"", 12 < max ? 12 : max);
        return (ssize_t)max;
}

static struct MHD_Response *response_new(const char *body, const FaultPlan *plan)
{
        size_t size = strlen(body);
        CutBody *cb;

        if (plan->huge_body)
                return MHD_create_response_from_callback(FAULT_HUGE_BODY_SIZE, 64 * 1024, hostile_body_read,
                                                         NULL, NULL);
        if (plan->endless_body)
                return MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, hostile_body_read,
                                                         (void *)1, NULL);
        if (plan->malformed_json) /* a prefix of a JSON document is never a JSON document */
                size = size > 2 ? size / 2 : 1;
        if (!plan->cut_connection)
                return MHD_create_response_from_buffer(size, (void *)body, MHD_RESPMEM_MUST_COPY);

        cb = calloc(1, sizeof(CutBody));
        if (!cb || !(cb->data = strndup(body, size))) {
                free(cb);
                return NULL;
        }
        cb->size = size;
        return MHD_create_response_from_callback(size, 1024, cut_body_read, cb, cut_body_free);
}

/* Logs the answer to requests.log and queues it, with one extra header unless `header_name` is NULL. */
static enum MHD_Result respond(Server *s, struct MHD_Connection *c, const char *method, const char *url,
                               unsigned status, const char *body, const FaultPlan *plan,
                               const char *header_name, const char *header_value)
{
        struct MHD_Response *resp;
        enum MHD_Result ret;

        resp = response_new(body, plan);
        if (!resp)
                return MHD_NO;
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        if (header_name)
                (void)MHD_add_response_header(resp, header_name, header_value);

        /* Logged before the answer can leave: a client that has it may count it at once. */
        pthread_mutex_lock(&s->lock);
        requests_log(s, method, url, status);
        pthread_mutex_unlock(&s->lock);
        log_debug("%s %s -> %u", method, url, status);

        ret = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static enum MHD_Result respond_error(Server *s, struct MHD_Connection *c, const char *method,
                                     const char *url, unsigned status, const char *text,
                                     const FaultPlan *plan)
{
        ApiResponse resp = {};
        enum MHD_Result ret;

        if (api_error(&resp, status, text) < 0)
                return MHD_NO;
        ret = respond(s, c, method, url, status, resp.body, plan, NULL, NULL);
        api_response_done(&resp);
        return ret;
}

static unsigned refuse(const char **ret_problem, unsigned status, const char *problem)
{
        *ret_problem = problem;
        return status;
}

/* Returns 0 and the agent id (certificate CN) for a valid client certificate, else the HTTP status to
 * answer (401 none, 403 untrusted) with `ret_problem`. */
static unsigned client_identity(struct MHD_Connection *c, char ret_agent_id[static 129],
                                const char **ret_problem)
{
        const union MHD_ConnectionInfo *info =
                MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        gnutls_typed_vdata_st purpose = {.type = GNUTLS_DT_KEY_PURPOSE_OID,
                                         .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT};
        _cleanup_(gnutls_x509_crt_deinitp) gnutls_x509_crt_t crt = NULL;
        const gnutls_datum_t *peers;
        unsigned n = 0, status = 0;
        size_t size = 129;
        time_t t = time(NULL);

        peers = info ? gnutls_certificate_get_peers(info->tls_session, &n) : NULL;
        if (!peers || n == 0)
                return refuse(ret_problem, 401, "client certificate required");

        if (gnutls_certificate_verify_peers(info->tls_session, &purpose, 1, &status) < 0)
                return refuse(ret_problem, 403, "client certificate could not be verified");
        if (status & GNUTLS_CERT_EXPIRED)
                return refuse(ret_problem, 403, "client certificate expired");
        if (status & GNUTLS_CERT_NOT_ACTIVATED)
                return refuse(ret_problem, 403, "client certificate not yet valid");
        if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA))
                return refuse(ret_problem, 403, "client certificate not issued by this backend's CA");
        if (status != 0)
                return refuse(ret_problem, 403, "client certificate rejected");

        /* Belt and braces: the validity window, checked here rather than trusted to the flags above. */
        if (gnutls_x509_crt_init(&crt) < 0 ||
            gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) < 0)
                return refuse(ret_problem, 403, "client certificate unreadable");
        if (gnutls_x509_crt_get_expiration_time(crt) < t)
                return refuse(ret_problem, 403, "client certificate expired");
        if (gnutls_x509_crt_get_activation_time(crt) > t)
                return refuse(ret_problem, 403, "client certificate not yet valid");
        if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, ret_agent_id, &size) < 0 ||
            !state_name_valid(ret_agent_id))
                return refuse(ret_problem, 403, "client certificate has no usable agent id");
        return 0;
}

static int inflate_gzip(const char *in, size_t in_size, size_t max, char **ret, size_t *ret_size)
{
        _cleanup_free_ char *out = NULL;
        size_t alloc = 0;
        z_stream z = {.next_in = (Bytef *)in, .avail_in = (uInt)in_size};
        int zr = Z_OK, r = 0;

        if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) /* 16: gzip framing */
                return -ENOMEM;
        while (r == 0) {
                if (z.total_out + 1 >= alloc) {
                        char *n = realloc(out, alloc + 65536);
                        if (!n) {
                                r = -ENOMEM;
                                break;
                        }
                        out = n;
                        alloc += 65536;
                }
                z.next_out = (Bytef *)out + z.total_out;
                z.avail_out = (uInt)(alloc - z.total_out - 1);
                zr = inflate(&z, Z_NO_FLUSH);
                if (z.total_out > max)
                        r = -EFBIG;
                else if (zr == Z_STREAM_END && z.avail_in > 0)
                        zr = inflateReset(&z); /* concatenated gzip members */
                else if (zr == Z_STREAM_END)
                        break;
                else if (zr != Z_OK && zr != Z_BUF_ERROR)
                        r = -EBADMSG;
                else if (zr == Z_BUF_ERROR && z.avail_in == 0)
                        r = -EBADMSG; /* truncated */
        }
        if (r == 0) {
                out[z.total_out] = 0;
                *ret_size = z.total_out;
                *ret = TAKE_PTR(out);
        }
        inflateEnd(&z);
        return r;
}

/* The request's body as the endpoint sees it. Returns 0, or the HTTP status to answer with `ret_problem`. */
static unsigned request_body(Server *s, struct MHD_Connection *c, RequestState *rs, const char **ret_problem)
{
        const char *enc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
        char *inflated;
        size_t size;
        int r;

        if (isempty(enc) || streq(enc, "identity"))
                return 0;
        if (!streq(enc, "gzip"))
                return refuse(ret_problem, 415, "unsupported Content-Encoding (only gzip)");
        r = inflate_gzip(rs->body ?: "", rs->size, s->cfg.max_body, &inflated, &size);
        if (r == -EFBIG)
                return refuse(ret_problem, 413, "inflated request body too large");
        if (r < 0)
                return refuse(ret_problem, 400, "request body is not valid gzip");
        free(rs->body);
        rs->body = inflated;
        rs->size = size;
        return 0;
}

static enum MHD_Result serve_route(Server *s, struct MHD_Connection *c, const struct Route *route,
                                   const char *method, const char *url, RequestState *rs,
                                   const FaultPlan *plan)
{
        char agent_id[129] = "";
        const char *problem = NULL;
        ApiResponse resp = {};
        enum MHD_Result ret;
        unsigned status;
        int r;

        if (route->mtls) {
                status = client_identity(c, agent_id, &problem);
                if (status != 0)
                        return respond_error(s, c, method, url, status, problem, plan);
        }
        status = request_body(s, c, rs, &problem);
        if (status != 0)
                return respond_error(s, c, method, url, status, problem, plan);

        ApiRequest req = {
                .idempotency_key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key"),
                .agent_id = route->mtls ? agent_id : NULL,
                .body = rs->body ?: "",
                .body_size = rs->size,
                .now = time(NULL),
        };
        pthread_mutex_lock(&s->lock);
        r = route->handler(&s->backend, &req, &resp);
        pthread_mutex_unlock(&s->lock);
        if (r < 0) {
                log_error_errno(r, "%s %s failed: %m", method, url);
                api_response_done(&resp);
                return respond_error(s, c, method, url, 500, "internal error", plan);
        }
        ret = respond(s, c, method, url, resp.status, resp.body, plan,
                      resp.replayed ? "Idempotent-Replayed" : NULL, "true");
        api_response_done(&resp);
        return ret;
}

static void sleep_ms(unsigned ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static enum MHD_Result dispatch(Server *s, struct MHD_Connection *c, const char *method, const char *url,
                                RequestState *rs)
{
        const struct Route *route;
        char retry_after[24];
        FaultPlan plan = {};
        int r;

        pthread_mutex_lock(&s->lock);
        r = faults_take(s->cfg.state_dir, url, &plan);
        pthread_mutex_unlock(&s->lock);
        if (r < 0)
                log_warning_errno(r, "Failed to read faults.json, ignoring: %m");
        if (plan.delay_ms > 0)
                sleep_ms(plan.delay_ms);

        if (plan.fail503) {
                snprintf(retry_after, sizeof(retry_after), "%llu", (unsigned long long)plan.retry_after);
                return respond(s, c, method, url, 503,
                               "{\"error\":\"service unavailable (injected fault)\"}", &plan,
                               MHD_HTTP_HEADER_RETRY_AFTER, retry_after);
        }
        if (rs->too_large)
                return respond_error(s, c, method, url, 413, "request body too large", &plan);
        route = route_find(url);
        if (!route)
                return respond_error(s, c, method, url, 404, "not found", &plan);
        if (!streq(method, "POST")) {
                ApiResponse resp = {};
                enum MHD_Result ret = MHD_NO;
                if (api_error(&resp, 405, "method not allowed") >= 0)
                        ret = respond(s, c, method, url, 405, resp.body, &plan, MHD_HTTP_HEADER_ALLOW,
                                      "POST");
                api_response_done(&resp);
                return ret;
        }
        return serve_route(s, c, route, method, url, rs, &plan);
}

static void body_append(RequestState *rs, const char *data, size_t size, size_t max)
{
        if (rs->too_large || rs->size + size > max) {
                rs->too_large = true; /* keep reading, answer 413 at the end */
                return;
        }
        if (rs->size + size + 1 > rs->alloc) {
                size_t alloc = (rs->size + size + 1) * 2;
                char *n = realloc(rs->body, alloc);
                if (!n) {
                        rs->too_large = true;
                        return;
                }
                rs->body = n;
                rs->alloc = alloc;
        }
        memcpy(rs->body + rs->size, data, size);
        rs->size += size;
        rs->body[rs->size] = 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
        Server *s = cls;
        RequestState *rs = *con_cls;

        if (rs && rs->responded) {
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (!rs) { /* headers only so far */
                const char *cl =
                        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
                rs = calloc(1, sizeof(RequestState));
                if (!rs)
                        return MHD_NO;
                *con_cls = rs;
                if (cl && strtoull(cl, NULL, 10) > s->cfg.max_body) {
                        rs->too_large = true; /* answer before the body is sent */
                        rs->responded = true;
                        return dispatch(s, c, method, url, rs);
                }
                return MHD_YES;
        }
        if (*upload_data_size > 0) {
                body_append(rs, upload_data, *upload_data_size, s->cfg.max_body);
                *upload_data_size = 0;
                return MHD_YES;
        }
        rs->responded = true;
        return dispatch(s, c, method, url, rs);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
        RequestState *rs = *con_cls;

        if (rs) {
                free(rs->body);
                free(rs);
        }
        *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
        _cleanup_free_ char *msg = NULL;

        if (vasprintf(&msg, fmt, ap) >= 0)
                log_debug("microhttpd: %s", msg);
}

/* Binds the listening socket ourselves so that port 0 works and the chosen port is known. */
static int listen_socket(const char *address, uint16_t port, int *ret_fd, char **ret_url)
{
        struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_PASSIVE, .ai_socktype = SOCK_STREAM},
                        *ai = NULL;
        struct sockaddr_storage sa;
        socklen_t salen = sizeof(sa);
        _cleanup_close_ int fd = -EBADF;
        char portstr[8], host[INET6_ADDRSTRLEN];
        int r;

        snprintf(portstr, sizeof(portstr), "%u", port);
        r = getaddrinfo(address, portstr, &hints, &ai);
        if (r != 0)
                return r == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0)
                (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int));
        r = fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0 ||
                            getsockname(fd, (struct sockaddr *)&sa, &salen) < 0
                    ? -errno
                    : 0;
        freeaddrinfo(ai);
        if (r < 0)
                return r;

        if (sa.ss_family == AF_INET6) {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;
                inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
                r = asprintf(ret_url, "https://[%s]:%u", host, ntohs(in6->sin6_port));
        } else {
                struct sockaddr_in *in4 = (struct sockaddr_in *)&sa;
                inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
                r = asprintf(ret_url, "https://%s:%u", host, ntohs(in4->sin_port));
        }
        if (r < 0)
                return -ENOMEM;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static Server *server_free(Server *s)
{
        if (!s)
                return NULL;
        if (s->daemon)
                MHD_stop_daemon(s->daemon);
        sd_event_source_unref(s->sigterm_source);
        sd_event_source_unref(s->sigint_source);
        sd_event_unref(s->event);
        if (s->tls_pki != s->pki)
                pki_free(s->tls_pki);
        free(s->bad_crt_pem);
        free(s->bad_key_pem);
        pki_free(s->pki);
        pthread_mutex_destroy(&s->lock);
        free(s->url);
        free(s);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Server *, server_free);

static int server_new(const ServerConfig *cfg, Server **ret)
{
        _cleanup_(server_freep) Server *s = calloc(1, sizeof(Server));
        int r;

        if (!s)
                return -ENOMEM;
        s->cfg = *cfg;
        pthread_mutex_init(&s->lock, NULL);

        r = state_init(cfg->state_dir);
        if (r < 0)
                return log_error_errno(r, "Failed to create state directory %s: %m", cfg->state_dir);
        r = pki_load(cfg->state_dir, false, &s->pki);
        if (r < 0)
                return log_error_errno(r, "Failed to load or create the CA in %s: %m", cfg->state_dir);
        s->tls_pki = s->pki;
        if (cfg->serve_other_ca) {
                r = pki_load(cfg->state_dir, true, &s->tls_pki);
                if (r < 0)
                        return log_error_errno(r, "Failed to load or create the impostor CA: %m");
        }
        if (cfg->serve_cert) {
                time_t t = time(NULL);
                bool expired = streq(cfg->serve_cert, "expired");

                r = pki_issue_server(
                        s->pki, expired ? t - 2 * 86400 : t - 3600, expired ? t - 86400 : t + 86400,
                        expired ? "localhost" : "other.invalid", &s->bad_crt_pem, &s->bad_key_pem);
                if (r < 0)
                        return log_error_errno(r, "Failed to issue the %s server certificate: %m",
                                               cfg->serve_cert);
        }
        s->backend = (Backend){
                .state_dir = cfg->state_dir,
                .pki = s->pki,
                .cert_validity = cfg->cert_validity,
                .totp_step = cfg->totp_step,
        };
        *ret = TAKE_PTR(s);
        return 0;
}

static int server_start_http(Server *s)
{
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = listen_socket(s->cfg.listen, s->cfg.port, &fd, &s->url);
        if (r < 0)
                return log_error_errno(r, "Failed to listen on %s port %u: %m", s->cfg.listen, s->cfg.port);

        s->daemon = MHD_start_daemon(MHD_USE_TLS | MHD_USE_THREAD_PER_CONNECTION |
                                             MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
                                     0, NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, fd,
                                     MHD_OPTION_HTTPS_MEM_KEY, s->bad_key_pem ?: s->tls_pki->server_key_pem,
                                     MHD_OPTION_HTTPS_MEM_CERT, s->bad_crt_pem ?: s->tls_pki->server_crt_pem,
                                     MHD_OPTION_HTTPS_MEM_TRUST, s->pki->ca_pem, MHD_OPTION_NOTIFY_COMPLETED,
                                     on_completed, s, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                                     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s, MHD_OPTION_END);
        if (!s->daemon)
                return log_error_errno(EIO, "Failed to start the HTTPS daemon.");
        TAKE_FD(fd); /* MHD closes it on stop */
        return 0;
}

/* Tells the world where we listen: stdout for people, an atomically written file for scripts. */
static int server_announce(Server *s)
{
        _cleanup_free_ char *line = NULL;
        int r;

        printf("listening on %s\n", s->url);
        fflush(stdout);
        if (!s->cfg.ready_file)
                return 0;
        if (asprintf(&line, "%s\n", s->url) < 0)
                return log_oom();
        r = write_file_atomic(s->cfg.ready_file, line, strlen(line), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write ready file %s: %m", s->cfg.ready_file);
        return 0;
}

static int server_setup_signals(Server *s)
{
        sigset_t mask;
        int r;

        /* Blocked before MHD's threads exist, so they inherit the mask and the signals come to sd-event. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        r = -pthread_sigmask(SIG_BLOCK, &mask, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to block signals: %m");
        (void)signal(SIGPIPE, SIG_IGN);

        r = sd_event_default(&s->event);
        if (r >= 0)
                r = sd_event_add_signal(s->event, &s->sigterm_source, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(s->event, &s->sigint_source, SIGINT, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the event loop: %m");
        (void)sd_event_source_set_description(s->sigterm_source, "sigterm");
        (void)sd_event_source_set_description(s->sigint_source, "sigint");
        return 0;
}

int server_run(const ServerConfig *cfg)
{
        _cleanup_(server_freep) Server *s = NULL;
        int r;

        r = server_new(cfg, &s);
        if (r < 0)
                return r;
        r = server_setup_signals(s);
        if (r < 0)
                return r;
        r = server_start_http(s);
        if (r < 0)
                return r;
        r = server_announce(s);
        if (r < 0)
                return r;
        r = sd_event_loop(s->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        log_info("Shutting down.");
        return 0;
}
