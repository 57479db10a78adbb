/* Test driver for the shipper against the reference backend, with the knobs the agent's settings do not
 * expose yet: submits --count synthetic events (sequence --first-seq upwards) while no API client is set
 * (as before enrolment or during an outage), then, unless --no-api, sets the mTLS client, waits until
 * everything was delivered or dropped, sends one heartbeat with the counters and prints them. With
 * --no-api it exits at once: in host mode (--spool-dir) what is queued goes to the spool. */

#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>

#include "net/api-client.h"
#include "net/tls-identity.h"
#include "ship/shipper.h"
#include "util/log.h"
#include "util/macro.h"

typedef struct Driver {
        sd_event *event;
        Shipper *shipper;
        ApiClient *api;
        usec_t deadline;
        bool heartbeat_sent;
} Driver;

static char *read_file(const char *path)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t n = 0;

        if (!f || getdelim(&buf, &n, '\0', f) < 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

static void on_heartbeat_done(int r, long status, const char *body, size_t size, const char *error_text,
                              void *userdata)
{
        Driver *d = userdata;

        if (r < 0 || status != 200)
                fprintf(stderr, "heartbeat failed: %s (HTTP %ld)\n", strna(error_text), status);
        (void)sd_event_exit(d->event, r < 0 || status != 200);
}

static void send_heartbeat(Driver *d, const SinkCounters *c)
{
        json_object *o = json_object_new_object();
        const char *s;

        json_object_object_add(o, "driver", json_object_new_boolean(true));
        (void)shipper_counters_to_json(c, o);
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        printf("%s\n", s);
        fflush(stdout);
        if (api_client_heartbeat(d->api, s, on_heartbeat_done, d) < 0)
                (void)sd_event_exit(d->event, 1);
        d->heartbeat_sent = true;
        json_object_put(o);
}

static int on_poll(sd_event_source *source, uint64_t usec, void *userdata)
{
        Driver *d = userdata;
        SinkCounters c;
        uint64_t dropped = 0;

        shipper_get_counters(d->shipper, &c);
        for (int i = 0; i < _DROP_CAUSE_MAX; i++)
                dropped += c.dropped[i];
        if (!d->heartbeat_sent && c.queued == 0 && c.spool_bytes == 0 &&
            (c.sent + c.dropped[DROP_QUEUE_FULL] + c.dropped[DROP_REJECTED] >= c.seen ||
             usec > d->deadline)) {
                send_heartbeat(d, &c);
                return 0;
        }
        if (usec > d->deadline + 5 * USEC_PER_SEC)
                return sd_event_exit(d->event, 2);
        (void)sd_event_source_set_time(source, usec + 50 * USEC_PER_MSEC);
        return sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                {"api-url", required_argument, NULL, 'u'},
                {"ca-file", required_argument, NULL, 'c'},
                {"cert", required_argument, NULL, 'C'},
                {"key", required_argument, NULL, 'K'},
                {"spool-dir", required_argument, NULL, 's'},
                {"queue-max-bytes", required_argument, NULL, 'q'},
                {"spool-max-bytes", required_argument, NULL, 'S'},
                {"batch-max-count", required_argument, NULL, 'b'},
                {"count", required_argument, NULL, 'n'},
                {"first-seq", required_argument, NULL, 'f'},
                {"pad", required_argument, NULL, 'p'},
                {"no-api", no_argument, NULL, 'N'},
                {"timeout", required_argument, NULL, 't'},
                {},
        };
        const char *api_url = NULL, *ca_file = NULL, *cert_file = NULL, *key_file = NULL;
        _cleanup_free_ char *cert = NULL, *key = NULL, *pad = NULL, *chain = NULL;
        _cleanup_(tls_identity_freep) TlsIdentity *id = NULL;
        Driver d = {};
        ShipperConfig cfg;
        uint64_t count = 0, first = 1, pad_size = 0, timeout = 30;
        bool no_api = false;
        int c, r;

        shipper_config_init(&cfg);
        cfg.backoff_initial = 100 * USEC_PER_MSEC;
        cfg.backoff_max = 2 * USEC_PER_SEC;
        cfg.batch_max_age = 200 * USEC_PER_MSEC;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'u':
                        api_url = optarg;
                        break;
                case 'c':
                        ca_file = optarg;
                        break;
                case 'C':
                        cert_file = optarg;
                        break;
                case 'K':
                        key_file = optarg;
                        break;
                case 's':
                        cfg.spool_dir = optarg;
                        break;
                case 'q':
                        cfg.queue_max_bytes = strtoull(optarg, NULL, 10);
                        break;
                case 'S':
                        cfg.spool_max_bytes = strtoull(optarg, NULL, 10);
                        break;
                case 'b':
                        cfg.batch_max_count = strtoull(optarg, NULL, 10);
                        break;
                case 'n':
                        count = strtoull(optarg, NULL, 10);
                        break;
                case 'f':
                        first = strtoull(optarg, NULL, 10);
                        break;
                case 'p':
                        pad_size = strtoull(optarg, NULL, 10);
                        break;
                case 'N':
                        no_api = true;
                        break;
                case 't':
                        timeout = strtoull(optarg, NULL, 10);
                        break;
                default:
                        return 64;
                }
        log_set_max_level(LOG_INFO);

        r = sd_event_default(&d.event);
        if (r >= 0)
                r = shipper_new(&d.shipper, d.event, &cfg);
        if (r < 0)
                return fprintf(stderr, "setup: %s\n", strerror(-r)), 1;
        pad = malloc(pad_size + 1);
        if (!pad)
                return 1;
        memset(pad, 'x', pad_size);
        pad[pad_size] = '\0';
        for (uint64_t seq = first; seq < first + count; seq++) {
                _cleanup_free_ char *line = NULL;
                int n = asprintf(&line,
                                 "{\"metadata\":{\"sequence\":%" PRIu64 "},\"marker\":\"DRV-%" PRIu64
                                 "\",\"pad\":\"%s\"}\n",
                                 seq, seq, pad);

                if (n < 0)
                        return 1;
                (void)shipper_submit(d.shipper, seq, line, (size_t)n);
        }
        shipper_kick(d.shipper);
        if (no_api) {
                shipper_free(d.shipper);
                sd_event_unref(d.event);
                return 0;
        }

        cert = cert_file ? read_file(cert_file) : NULL;
        key = key_file ? read_file(key_file) : NULL;
        if (!cert || !key)
                return fprintf(stderr, "cannot read --cert/--key\n"), 1;
        chain = ca_file ? read_file(ca_file) : NULL;
        r = tls_identity_load(&id, key, cert, chain ?: cert);
        if (r >= 0)
                r = api_client_new(&d.api, d.event, api_url, ca_file);
        if (r >= 0)
                r = api_client_set_identity(d.api, id);
        if (r >= 0)
                r = sd_event_add_time_relative(d.event, NULL, CLOCK_MONOTONIC, 50 * USEC_PER_MSEC, 0,
                                               on_poll, &d);
        if (r < 0)
                return fprintf(stderr, "client: %s\n", strerror(-r)), 1;
        d.deadline = now(CLOCK_MONOTONIC) + timeout * USEC_PER_SEC;
        shipper_set_api(d.shipper, d.api);
        r = sd_event_loop(d.event);
        d.api = api_client_free(d.api);
        d.shipper = shipper_free(d.shipper);
        sd_event_unref(d.event);
        return r;
}
