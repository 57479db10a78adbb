/* The curl multi handle hands us its sockets and a single timeout; we hand them to sd-event
 * (CURLMOPT_SOCKETFUNCTION -> one io source per socket, CURLMOPT_TIMERFUNCTION -> one one-shot timer)
 * and feed readiness back with curl_multi_socket_action(). Finished transfers are collected from a
 * defer source rather than inline, so a finished callback never runs inside libcurl and may free
 * the glue: the glue then detaches from libcurl and sd-event at once and only releases its own
 * struct when the dispatch loop unwinds. Model: systemd src/shared/curl-util.c. */

#include <malloc.h>
#include <sys/epoll.h>

#include "config.h"
#include "net/curl-glue.h"
#include "util/log.h"
#include "util/time-util.h"

#define CONNECT_TIMEOUT_MSEC 10000L
#define LOW_SPEED_LIMIT      30L /* bytes per second ... */
#define LOW_SPEED_TIME       60L /* ... for this many seconds */

struct CurlGlue {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        sd_event_source *defer;
        curl_glue_finished_t on_finished;

        CURL **transfers; /* running, ours to detach on free */
        size_t n_transfers;
        sd_event_source **ios; /* one per socket libcurl watches */
        size_t n_ios;

        unsigned dispatching;
        bool dead;
};

static int ptr_array_append(void ***array, size_t *n, void *p)
{
        void **a = reallocarray(*array, *n + 1, sizeof(void *));

        if (!a)
                return -ENOMEM;
        a[(*n)++] = p;
        *array = a;
        return 0;
}

static bool ptr_array_remove(void **array, size_t *n, const void *p)
{
        for (size_t i = 0; i < *n; i++)
                if (array[i] == p) {
                        array[i] = array[--*n];
                        return true;
                }
        return false;
}

static void curl_glue_kick(CurlGlue *g)
{
        if (g->defer)
                (void)sd_event_source_set_enabled(g->defer, SD_EVENT_ONESHOT);
}

static int curl_glue_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        CurlGlue *g = userdata;
        int action = 0, running = 0;

        if (revents & EPOLLIN)
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & (EPOLLERR | EPOLLHUP))
                action |= CURL_CSELECT_ERR;

        if (curl_multi_socket_action(g->multi, fd, action, &running) != CURLM_OK)
                log_debug("Failed to propagate I/O event to libcurl, ignoring.");
        curl_glue_kick(g);
        return 0;
}

static int curl_glue_on_socket(CURL *c, curl_socket_t fd, int action, void *userdata, void *socketp)
{
        CurlGlue *g = userdata;
        sd_event_source *io = socketp;
        uint32_t events = 0;

        if (action == CURL_POLL_REMOVE) {
                if (io) {
                        ptr_array_remove((void **)g->ios, &g->n_ios, io);
                        sd_event_source_disable_unref(io);
                }
                return 0;
        }

        if (action & CURL_POLL_IN)
                events |= EPOLLIN;
        if (action & CURL_POLL_OUT)
                events |= EPOLLOUT;

        if (io)
                return sd_event_source_set_io_events(io, events) < 0 ? -1 : 0;

        if (sd_event_add_io(g->event, &io, fd, events, curl_glue_on_io, g) < 0)
                return -1;
        (void)sd_event_source_set_description(io, "curl-io");
        if (ptr_array_append((void ***)&g->ios, &g->n_ios, io) < 0 ||
            curl_multi_assign(g->multi, fd, io) != CURLM_OK) {
                ptr_array_remove((void **)g->ios, &g->n_ios, io);
                sd_event_source_disable_unref(io);
                return -1;
        }
        return 0;
}

static int curl_glue_on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        CurlGlue *g = userdata;
        int running = 0;

        if (curl_multi_socket_action(g->multi, CURL_SOCKET_TIMEOUT, 0, &running) != CURLM_OK)
                log_debug("Failed to propagate timeout to libcurl, ignoring.");
        curl_glue_kick(g);
        return 0;
}

static int curl_glue_on_timeout_change(CURLM *multi, long timeout_ms, void *userdata)
{
        CurlGlue *g = userdata;
        usec_t usec;

        if (timeout_ms < 0)
                return g->timer && sd_event_source_set_enabled(g->timer, SD_EVENT_OFF) < 0 ? -1 : 0;

        /* Round up, so the timer never fires before libcurl considers the timeout reached. */
        usec = (usec_t)timeout_ms * USEC_PER_MSEC + USEC_PER_MSEC - 1;
        if (g->timer) {
                if (sd_event_source_set_time_relative(g->timer, usec) < 0 ||
                    sd_event_source_set_enabled(g->timer, SD_EVENT_ONESHOT) < 0)
                        return -1;
                return 0;
        }
        /* Accuracy 1 µs: libcurl's timeouts are often "now", and sd-event's default slack is 250 ms. */
        if (sd_event_add_time_relative(g->event, &g->timer, CLOCK_MONOTONIC, usec, 1, curl_glue_on_timer,
                                       g) < 0)
                return -1;
        (void)sd_event_source_set_description(g->timer, "curl-timer");
        return 0;
}

static int curl_glue_on_defer(sd_event_source *s, void *userdata)
{
        CurlGlue *g = userdata;
        CURLMsg *msg;
        int left;

        while (!g->dead && (msg = curl_multi_info_read(g->multi, &left))) {
                CURL *c = msg->easy_handle;
                CURLcode result = msg->data.result;
                void *data = NULL;

                if (msg->msg != CURLMSG_DONE)
                        continue;

                (void)curl_easy_getinfo(c, CURLINFO_PRIVATE, (char **)&data);
                curl_glue_remove(g, c);

                g->dispatching++;
                if (g->on_finished)
                        g->on_finished(g, c, result, data);
                g->dispatching--;
        }

        if (g->dead && g->dispatching == 0)
                free(g);
        return 0;
}

static void curl_glue_disconnect(CurlGlue *g)
{
        while (g->n_transfers > 0)
                curl_glue_remove(g, g->transfers[0]);
        g->transfers = mfree(g->transfers);

        /* Cleaning up the multi handle may still call our socket and timer callbacks. */
        if (g->multi)
                curl_multi_cleanup(g->multi);
        g->multi = NULL;

        for (size_t i = 0; i < g->n_ios; i++)
                sd_event_source_disable_unref(g->ios[i]);
        g->ios = mfree(g->ios);
        g->n_ios = 0;
        g->timer = sd_event_source_disable_unref(g->timer);
        g->defer = sd_event_source_disable_unref(g->defer);
        g->event = sd_event_unref(g->event);
}

CurlGlue *curl_glue_free(CurlGlue *g)
{
        if (!g || g->dead)
                return NULL;

        curl_glue_disconnect(g);
        /* Inside our own dispatch loop the struct is still in use; curl_glue_on_defer() frees it. */
        if (g->dispatching > 0)
                g->dead = true;
        else
                free(g);
        return NULL;
}

/* libcurl builds a request's headers and a small body in one buffer, so the enrolment token, kept in a
 * secure buffer by us, sits in that copy until the heap reuses it (a core dump found it there). Every block
 * libcurl frees or moves is wiped first; its allocations are few and small. */
static void curl_wipe_free(void *p)
{
        if (!p)
                return;
        explicit_bzero(p, malloc_usable_size(p));
        free(p);
}

static void *curl_wipe_realloc(void *p, size_t size)
{
        size_t old;
        void *n;

        if (!p)
                return malloc(size);
        old = malloc_usable_size(p);
        n = malloc(size ?: 1);
        if (!n)
                return NULL;
        memcpy(n, p, old < size ? old : size);
        curl_wipe_free(p);
        return n;
}

int curl_glue_new(CurlGlue **ret, sd_event *e)
{
        static bool curl_initialized = false;
        _cleanup_(curl_glue_freep) CurlGlue *g = NULL;
        int r;

        if (!ret || !e)
                return -EINVAL;

        /* The agent is single-threaded; libcurl wants this once before anything else. */
        if (!curl_initialized) {
                if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, curl_wipe_free, curl_wipe_realloc,
                                         strdup, calloc) != CURLE_OK)
                        return -EIO;
                curl_initialized = true;
        }

        g = calloc(1, sizeof(CurlGlue));
        if (!g)
                return -ENOMEM;
        g->event = sd_event_ref(e);
        g->multi = curl_multi_init();
        if (!g->multi)
                return -ENOMEM;

        if (curl_multi_setopt(g->multi, CURLMOPT_SOCKETFUNCTION, curl_glue_on_socket) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_SOCKETDATA, g) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_TIMERFUNCTION, curl_glue_on_timeout_change) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_TIMERDATA, g) != CURLM_OK)
                return -EIO;

        r = sd_event_add_defer(g->event, &g->defer, curl_glue_on_defer, g);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(g->defer, "curl-defer");

        *ret = TAKE_PTR(g);
        return 0;
}

void curl_glue_set_on_finished(CurlGlue *g, curl_glue_finished_t on_finished)
{
        g->on_finished = on_finished;
}

int curl_glue_make(CURL **ret, const char *url, void *userdata)
{
        _cleanup_(curl_easy_cleanupp) CURL *c = NULL;

        if (!ret || !url)
                return -EINVAL;

        c = curl_easy_init();
        if (!c)
                return -ENOMEM;

        if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_PRIVATE, userdata) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https") != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_USERAGENT, "linuxguard/" PACKAGE_VERSION) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MSEC) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_LIMIT) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 60L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 30L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK)
                return -EIO;

        *ret = TAKE_PTR(c);
        return 0;
}

int curl_glue_add(CurlGlue *g, CURL *c)
{
        int r;

        if (!g || !c || g->dead)
                return -EINVAL;

        r = ptr_array_append((void ***)&g->transfers, &g->n_transfers, c);
        if (r < 0)
                return r;
        if (curl_multi_add_handle(g->multi, c) != CURLM_OK) {
                ptr_array_remove((void **)g->transfers, &g->n_transfers, c);
                return -EIO;
        }
        return 0;
}

void curl_glue_remove(CurlGlue *g, CURL *c)
{
        if (!g || !c)
                return;
        if (ptr_array_remove((void **)g->transfers, &g->n_transfers, c) && g->multi)
                (void)curl_multi_remove_handle(g->multi, c);
}

size_t curl_glue_n_running(const CurlGlue *g)
{
        return g ? g->n_transfers : 0;
}

int curl_glue_set_trust(CURL *c, const char *ca_file)
{
        if (!ca_file)
                return 0;
        if (curl_easy_setopt(c, CURLOPT_CAINFO, ca_file) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_CAPATH, NULL) != CURLE_OK)
                return -EIO;
        return 0;
}

int curl_code_to_errno(CURLcode code)
{
        switch (code) {
        case CURLE_OK:
                return 0;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_URL_MALFORMAT:
        case CURLE_BAD_FUNCTION_ARGUMENT:
                return -EINVAL;
        case CURLE_UNSUPPORTED_PROTOCOL:
                return -EPROTONOSUPPORT;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return -EHOSTUNREACH;
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_SEND_ERROR:
                return -EPIPE;
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
                return -ECONNRESET;
        case CURLE_SSL_CONNECT_ERROR:
                return -ECONNABORTED;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
                return -EKEYREJECTED;
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
                return -ENOKEY;
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CRL_BADFILE:
                return -ENOENT;
        case CURLE_ABORTED_BY_CALLBACK:
                return -ECANCELED;
        case CURLE_WRITE_ERROR:
        case CURLE_READ_ERROR:
        default:
                return -EIO;
        }
}

bool curl_code_is_transient(CURLcode code)
{
        switch (code) {
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_SSL_CONNECT_ERROR:
                return true;
        default:
                return false;
        }
}

size_t curl_glue_response_append(char **buf, size_t *size, bool *too_big, const char *data, size_t n)
{
        char *p;

        if (n > CURL_GLUE_RESPONSE_MAX - *size) {
                *too_big = true;
                return 0;
        }
        p = realloc(*buf, *size + n + 1);
        if (!p)
                return 0;
        memcpy(p + *size, data, n);
        *size += n;
        p[*size] = '\0';
        *buf = p;
        return n;
}

const char *curl_glue_strerror(CURLcode code, const char *errbuf, bool too_big)
{
        if (too_big && code == CURLE_WRITE_ERROR)
                return "the backend's answer exceeds 1 MiB";
        return !isempty(errbuf) ? errbuf : curl_easy_strerror(code);
}
