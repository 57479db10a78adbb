/* The metrics endpoint.
 *
 * libmicrohttpd runs without a thread of its own: with MHD_USE_EPOLL and no internal polling thread it
 * keeps its sockets in one epoll set, whose fd becomes an sd-event io source; MHD_run() does the work
 * and MHD_get_timeout() arms a timer for its idle timeouts (0 when it has buffered work to finish). So
 * the counters are read on the loop that writes them, without locks. Only GET and HEAD of /metrics are
 * answered, a handful of connections at once, each cut after 10 s. */

#include "daemon/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "config.h"
#include "core/settings.h"
#include "daemon/manager.h"
#include "util/log.h"

_printf_(2, 3) static void put(StrBuf *out, const char *fmt, ...)
{
        char line[512];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        if (n > 0)
                strbuf_append(out, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void family(StrBuf *out, const char *name, const char *type, const char *help)
{
        put(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(StrBuf *out, const char *name, const char *type, const char *help, unsigned long long v)
{
        family(out, name, type, help);
        put(out, "%s %llu\n", name, v);
}

void metrics_render(const AgentStatus *st, StrBuf *out)
{
        static const char *const sources[] = {"ebpf", "proc_connector"};

        one(out, "linuxguard_up", "gauge", "1 while the agent runs.", 1);
        family(out, "linuxguard_info", "gauge", "The agent's version and mode.");
        put(out, "linuxguard_info{version=\"%s\",mode=\"%s\"} 1\n", st->version, st->mode);
        one(out, "linuxguard_healthy", "gauge", "1 when 'linuxguard health' exits 0.", st->healthy);
        one(out, "linuxguard_degraded", "gauge", "1 when the eBPF sensors do not run.",
            !!st->degraded_reason[0]);
        one(out, "linuxguard_enrolled", "gauge", "1 when an mTLS identity is in use.", st->enrolled);
        one(out, "linuxguard_uptime_seconds", "gauge", "Seconds since the agent started.", st->uptime_s);

        family(out, "linuxguard_events_total", "counter", "Events the sensors delivered, by source.");
        for (size_t i = 0; i < ELEMENTSOF(sources); i++)
                put(out, "linuxguard_events_total{source=\"%s\"} %llu\n", sources[i],
                    (unsigned long long)(streq(st->event_source, sources[i]) ? st->seen : 0));
        one(out, "linuxguard_events_sent_total", "counter",
            "Events the backend accepted (--output api) or written to the local output.", st->delivery.sent);
        one(out, "linuxguard_events_spooled_total", "counter", "Events written to the on-disk spool.",
            st->delivery.spooled);
        family(out, "linuxguard_events_dropped_total", "counter", "Events lost, by cause.");
        for (DropCause i = 0; i < _DROP_CAUSE_MAX; i++)
                put(out, "linuxguard_events_dropped_total{cause=\"%s\"} %llu\n", drop_cause_to_string(i),
                    (unsigned long long)st->delivery.dropped[i]);
        one(out, "linuxguard_queue_events", "gauge", "Events waiting in memory for delivery.",
            st->delivery.queued);
        one(out, "linuxguard_queue_bytes", "gauge", "Bytes the in-memory delivery queue holds.",
            st->delivery.queue_bytes);
        one(out, "linuxguard_spool_bytes", "gauge", "Spool bytes not yet delivered.",
            st->delivery.spool_bytes);

        if (st->not_after != USEC_INFINITY) {
                family(out, "linuxguard_certificate_expiry_timestamp_seconds", "gauge",
                       "The client certificate's notAfter, in seconds since the epoch.");
                put(out, "linuxguard_certificate_expiry_timestamp_seconds %llu\n",
                    (unsigned long long)(st->not_after / USEC_PER_SEC));
        }
        one(out, "linuxguard_certificate_renewals_total", "counter",
            "Certificates renewed (or enrolled again) since start.", st->renewals);
        one(out, "linuxguard_certificate_renewal_failures", "gauge",
            "Consecutive failed renewal attempts; 0 after a success.", st->renewal_failures);
}

#if HAVE_LIBMICROHTTPD

#include <microhttpd.h>

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct Metrics {
        Manager *manager;
        struct MHD_Daemon *daemon;
        sd_event_source *io_source;
        sd_event_source *timer_source;
        StrBuf body;
};

static void metrics_log(void *cls, const char *fmt, va_list ap)
{
        char line[512];

        (void)vsnprintf(line, sizeof(line), fmt, ap);
        line[strcspn(line, "\n")] = '\0';
        log_debug("metrics: %s", line);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *body, size_t size,
                             const char *content_type)
{
        struct MHD_Response *resp;
        enum MHD_Result ret;

        resp = MHD_create_response_from_buffer(size, (void *)body, MHD_RESPMEM_MUST_COPY);
        if (!resp)
                return MHD_NO;
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
        if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
                (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        ret = MHD_queue_response(conn, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
        Metrics *x = cls;
        AgentStatus st;

        if (!streq(url, "/metrics"))
                return reply(conn, MHD_HTTP_NOT_FOUND, "not found\n", 10, "text/plain");
        if (!streq(method, "GET") && !streq(method, "HEAD"))
                return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n", 19, "text/plain");

        manager_get_status(x->manager, &st);
        strbuf_reset(&x->body);
        metrics_render(&st, &x->body);
        if (strbuf_error(&x->body) < 0)
                return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", 14, "text/plain");
        return reply(conn, MHD_HTTP_OK, x->body.data, x->body.len, METRICS_CONTENT_TYPE);
}

/* After every MHD_run(): when MHD next needs to run without a socket event. */
static void metrics_arm_timer(Metrics *x)
{
        MHD_UNSIGNED_LONG_LONG ms;
        int r;

        if (MHD_get_timeout(x->daemon, &ms) != MHD_YES) {
                (void)sd_event_source_set_enabled(x->timer_source, SD_EVENT_OFF);
                return;
        }
        r = sd_event_source_set_time_relative(x->timer_source, (usec_t)ms * USEC_PER_MSEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(x->timer_source, SD_EVENT_ONESHOT);
        if (r < 0 && r != -ESTALE)
                log_warning_errno(r, "Failed to arm the metrics timer: %m");
}

static void metrics_run(Metrics *x)
{
        if (MHD_run(x->daemon) != MHD_YES)
                log_debug("metrics: MHD_run() failed.");
        metrics_arm_timer(x);
}

static int on_metrics_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        metrics_run(userdata);
        return 0;
}

static int on_metrics_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        metrics_run(userdata);
        return 0;
}

/* "127.0.0.1:9464" or "[::1]:9464" of the bound socket, for the log (the port may have been 0). */
static void metrics_bound_address(struct MHD_Daemon *d, char *buf, size_t size)
{
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
        struct sockaddr_storage sa;
        socklen_t len = sizeof(sa);
        char host[INET6_ADDRSTRLEN] = "?";
        bool v6;

        if (!info || getsockname(info->listen_fd, (struct sockaddr *)&sa, &len) < 0) {
                snprintf(buf, size, "?");
                return;
        }
        v6 = sa.ss_family == AF_INET6;
        (void)inet_ntop(sa.ss_family,
                        v6 ? (void *)&((struct sockaddr_in6 *)&sa)->sin6_addr
                           : (void *)&((struct sockaddr_in *)&sa)->sin_addr,
                        host, sizeof(host));
        snprintf(
                buf, size, "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "",
                ntohs(v6 ? ((struct sockaddr_in6 *)&sa)->sin6_port : ((struct sockaddr_in *)&sa)->sin_port));
}

int metrics_start(Metrics **ret, Manager *m, const char *listen)
{
        _cleanup_(metrics_freep) Metrics *x = NULL;
        const union MHD_DaemonInfo *info;
        struct sockaddr_storage sa;
        char where[INET6_ADDRSTRLEN + 16];
        socklen_t len;
        int r;

        r = parse_listen_address(listen, &sa, &len);
        if (r < 0)
                return r;
        x = calloc(1, sizeof(*x));
        if (!x)
                return -ENOMEM;
        x->manager = m;

        errno = 0;
        x->daemon = MHD_start_daemon(
                MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (sa.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0, NULL,
                NULL, on_request, x, MHD_OPTION_EXTERNAL_LOGGER, metrics_log, NULL, MHD_OPTION_SOCK_ADDR,
                (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT, 8U, MHD_OPTION_CONNECTION_TIMEOUT, 10U,
                MHD_OPTION_END);
        if (!x->daemon)
                return errno > 0 ? -errno : -EADDRNOTAVAIL;
        info = MHD_get_daemon_info(x->daemon, MHD_DAEMON_INFO_EPOLL_FD);
        if (!info)
                return -EOPNOTSUPP;

        r = sd_event_add_io(m->event, &x->io_source, info->epoll_fd, EPOLLIN, on_metrics_io, x);
        if (r >= 0)
                r = sd_event_source_set_description(x->io_source, "metrics-http");
        if (r >= 0)
                r = sd_event_add_time_relative(m->event, &x->timer_source, CLOCK_MONOTONIC, 0, 0,
                                               on_metrics_timer, x);
        if (r >= 0)
                r = sd_event_source_set_description(x->timer_source, "metrics-http-timer");
        if (r < 0)
                return r;
        metrics_arm_timer(x);
        metrics_bound_address(x->daemon, where, sizeof(where));
        log_info("Serving Prometheus metrics at http://%s/metrics.", where);
        *ret = TAKE_PTR(x);
        return 0;
}

Metrics *metrics_free(Metrics *x)
{
        if (!x)
                return NULL;
        sd_event_source_disable_unref(x->io_source);
        sd_event_source_disable_unref(x->timer_source);
        if (x->daemon)
                MHD_stop_daemon(x->daemon);
        strbuf_done(&x->body);
        return mfree(x);
}

#else

int metrics_start(Metrics **ret, Manager *m, const char *listen)
{
        return -EOPNOTSUPP;
}

Metrics *metrics_free(Metrics *x)
{
        return NULL;
}

#endif
