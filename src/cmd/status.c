/* `linuxguard status` and `linuxguard health`.
 *
 * Both read the running agent's org.linuxguard.Agent1 properties in one GetAll call. The agent is looked
 * for on the control socket (the --control-socket option, else the config file's control_socket, else
 * /run/linuxguard/control.sock, then the abstract @linuxguard/control), then on the system bus. `health`
 * is built for Kubernetes exec probes in an image without a shell: one line on stdout, exit 0 or 1. When
 * the agent closes the connection because this uid may not use it, the reason is spelled out: the
 * socket's SO_PEERCRED tells the client which uid the agent runs as. */

#include "cmd/commands.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <systemd/sd-bus.h>

#include "config.h"
#include "core/cli.h"
#include "core/agent-config.h"
#include "core/exit-status.h"
#include "daemon/control.h"
#include "identity/host-store.h"
#include "util/macro.h"
#include "util/time-util.h"

#define STATUS_CALL_TIMEOUT (5 * USEC_PER_SEC)
#define MAX_DROP_CAUSES     8

typedef struct StatusArgs {
        bool health;
        bool json;
        bool help;
        const char *socket;
} StatusArgs;

/* The properties, borrowed from the reply message. */
typedef struct AgentReport {
        const char *mode, *version, *agent_id, *degraded_reason, *event_source, *health_reason;
        int enrolled, healthy;
        uint64_t uptime_s, seen, sent, queued, queue_bytes, spooled, spool_bytes, not_after, renewals;
        struct {
                const char *cause;
                uint64_t n;
        } dropped[MAX_DROP_CAUSES];
        size_t n_dropped;
} AgentReport;

static void status_help(const char *cmd)
{
        if (streq(cmd, "health"))
                printf("Usage: linuxguard health [--control-socket PATH|@NAME]\n\n"
                       "Ask the running agent whether it is healthy: running and answering, enrolled when "
                       "it\n"
                       "needs an identity, its certificate not expired. Degraded sensors and failing "
                       "renewals\n"
                       "are reported but stay healthy. Prints one line; for Kubernetes exec probes.\n\n"
                       "Exit status: 0 healthy, 1 unhealthy or the agent cannot be reached, 2 usage.\n");
        else
                printf("Usage: linuxguard status [--json] [--control-socket PATH|@NAME]\n\n"
                       "Show the running agent's mode, enrolment, sensors, certificate, health and "
                       "delivery\n"
                       "counters.\n\n"
                       "  --json                One JSON object instead of the summary\n"
                       "  --control-socket=PATH The agent's control socket (default: see linuxguard(8))\n"
                       "  -h --help             Show this help\n\n"
                       "Exit status: 0 shown, 1 the agent cannot be reached or refused, 2 usage.\n");
}

enum { STATUS_JSON, STATUS_SOCKET, STATUS_HELP };

static int status_option(int id, const char *arg, void *userdata, char *error, size_t error_size)
{
        StatusArgs *a = userdata;

        switch (id) {
        case STATUS_JSON:
                if (a->health)
                        return -ENOENT; /* `health` prints one line, never JSON */
                a->json = true;
                return 0;
        case STATUS_SOCKET:
                a->socket = arg;
                return 0;
        default:
                a->help = true;
                return 0;
        }
}

static int status_args_parse(const char *cmd, int argc, char **argv, StatusArgs *ret)
{
        static const CliOption options[] = {
                {"json", 0, no_argument, STATUS_JSON},
                {"control-socket", 0, required_argument, STATUS_SOCKET},
                {"help", 'h', no_argument, STATUS_HELP},
        };
        _cleanup_(settings_done) Settings none = {};
        char hint[64], error[512];
        int r;

        snprintf(hint, sizeof(hint), " (see 'linuxguard %s --help')", cmd);
        ret->health = streq(cmd, "health");
        r = cli_parse(&(const CliCommand){.options = options,
                                          .n_options = ELEMENTSOF(options),
                                          .unknown_hint = hint,
                                          .on_option = status_option},
                      argc, argv, &none, ret, NULL, error, sizeof(error));
        if (r < 0)
                fprintf(stderr, "linuxguard %s: %s\n", cmd, error);
        return r;
}

/* --- finding the agent --- */

static int call_get_all(sd_bus *bus, const char *destination, sd_bus_message **ret, char *why, size_t size)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        (void)sd_bus_set_method_call_timeout(bus, STATUS_CALL_TIMEOUT);
        r = sd_bus_call_method(bus, destination, CONTROL_OBJECT_PATH, "org.freedesktop.DBus.Properties",
                               "GetAll", &error, ret, "s", CONTROL_INTERFACE);
        if (r < 0)
                snprintf(why, size, "%s", error.message ?: strerror(-r));
        return r;
}

static int query_socket(const char *spec, sd_bus_message **ret, char *why, size_t size)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct ucred agent = {};
        socklen_t len;
        struct sockaddr_un sa;
        int r;

        r = control_socket_address(spec, &sa, &len);
        if (r < 0)
                return snprintf(why, size, "%s: not a socket path", spec), r;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, len) < 0) {
                r = -errno;
                if (r == -EACCES)
                        snprintf(why, size,
                                 "permission denied on %s: only root and the agent's uid may use the "
                                 "control API",
                                 spec);
                else
                        snprintf(why, size, "%s: %s", spec, strerror(-r));
                return r;
        }
        len = sizeof(agent);
        (void)getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &agent, &len);

        r = sd_bus_new(&bus);
        if (r >= 0 && (r = sd_bus_set_fd(bus, fd, fd)) >= 0)
                fd = -EBADF; /* the bus owns it now */
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r >= 0)
                r = call_get_all(bus, NULL, ret, why, size);
        else
                snprintf(why, size, "%s: %s", spec, strerror(-r));
        if (r < 0 && agent.pid > 0 && !control_peer_allowed(geteuid(), agent.uid))
                snprintf(why, size,
                         "refused by the agent at %s (pid %d): it runs as uid %u and answers only root and "
                         "uid %u; this is uid %u",
                         spec, (int)agent.pid, (unsigned)agent.uid, (unsigned)agent.uid,
                         (unsigned)geteuid());
        return r < 0 ? (r == -ECONNRESET || r == -EPIPE || r == -ENOTCONN ? -EACCES : r) : 0;
}

static int query_system_bus(sd_bus_message **ret, char *why, size_t size)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        char text[256];
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return snprintf(why, size, "system bus: %s", strerror(-r)), r;
        r = call_get_all(bus, CONTROL_BUS_NAME, ret, text, sizeof(text));
        if (r < 0)
                snprintf(why, size, "system bus: %s", text);
        return r;
}

/* The control socket the agent was configured with when the option does not say: the config file's.
 * NULL when it names none, or cannot be read (the agent then refused to start with it anyway). */
static const char *configured_socket(AgentConfig *c)
{
        char error[256];

        if (agent_config_load(&(const AgentConfigRequest){.mode = MODE_CHOICE_HOST}, c, error,
                              sizeof(error)) < 0)
                return NULL;
        if (c->settings.v[SETTING_CONTROL_SOCKET].source != SOURCE_FILE)
                return NULL;
        return settings_str(&c->settings, SETTING_CONTROL_SOCKET);
}

/* -EACCES when an agent refused us, else the error of the last place tried. `why` says it all. */
static int query_agent(const char *socket_spec, sd_bus_message **ret, char *why, size_t size)
{
        _cleanup_(agent_config_done) AgentConfig config = {};
        const char *sockets[2] = {};
        char one[512];
        size_t n = 0;
        int r = -ENOENT;

        if (!socket_spec)
                socket_spec = configured_socket(&config);
        if (socket_spec)
                sockets[0] = socket_spec;
        else {
                sockets[0] = CONTROL_SOCKET_DEFAULT;
                sockets[1] = CONTROL_SOCKET_ABSTRACT;
        }
        why[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(sockets) && sockets[i]; i++) {
                r = query_socket(sockets[i], ret, one, sizeof(one));
                if (r >= 0 || r == -EACCES)
                        return snprintf(why, size, "%s", one), r;
                n += (size_t)snprintf(why + n, n < size ? size - n : 0, "%s%s", n ? "; " : "", one);
        }
        if (socket_spec) /* named explicitly: only there */
                return r;
        r = query_system_bus(ret, one, sizeof(one));
        if (r < 0)
                (void)snprintf(why + n, n < size ? size - n : 0, "%s%s", n ? "; " : "", one);
        return r;
}

/* --- reading the answer --- */

static int read_dropped(sd_bus_message *m, AgentReport *rep)
{
        const char *cause;
        uint64_t n;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{st}");
        while (r >= 0 && (r = sd_bus_message_read(m, "{st}", &cause, &n)) > 0)
                if (rep->n_dropped < MAX_DROP_CAUSES) {
                        rep->dropped[rep->n_dropped].cause = cause;
                        rep->dropped[rep->n_dropped++].n = n;
                }
        return r < 0 ? r : sd_bus_message_exit_container(m);
}

static int read_property(sd_bus_message *m, const char *name, AgentReport *rep)
{
        static const struct {
                const char *name;
                size_t offset;
        } strings[] =
                {
                        {"Mode", offsetof(AgentReport, mode)},
                        {"Version", offsetof(AgentReport, version)},
                        {"AgentId", offsetof(AgentReport, agent_id)},
                        {"DegradedReason", offsetof(AgentReport, degraded_reason)},
                        {"EventSource", offsetof(AgentReport, event_source)},
                        {"HealthReason", offsetof(AgentReport, health_reason)},
                },
          bools[] =
                  {
                          {"Enrolled", offsetof(AgentReport, enrolled)},
                          {"Healthy", offsetof(AgentReport, healthy)},
                  },
          numbers[] = {
                  {"UptimeSeconds", offsetof(AgentReport, uptime_s)},
                  {"EventsSeen", offsetof(AgentReport, seen)},
                  {"EventsSent", offsetof(AgentReport, sent)},
                  {"Queued", offsetof(AgentReport, queued)},
                  {"QueueBytes", offsetof(AgentReport, queue_bytes)},
                  {"Spooled", offsetof(AgentReport, spooled)},
                  {"SpoolBytes", offsetof(AgentReport, spool_bytes)},
                  {"CertificateNotAfter", offsetof(AgentReport, not_after)},
                  {"Renewals", offsetof(AgentReport, renewals)},
          };
        char *base = (char *)rep;

        if (streq(name, "Dropped"))
                return read_dropped(m, rep);
        for (size_t i = 0; i < ELEMENTSOF(strings); i++)
                if (streq(name, strings[i].name))
                        return sd_bus_message_read(m, "s", (const char **)(base + strings[i].offset));
        for (size_t i = 0; i < ELEMENTSOF(bools); i++)
                if (streq(name, bools[i].name))
                        return sd_bus_message_read(m, "b", (int *)(base + bools[i].offset));
        for (size_t i = 0; i < ELEMENTSOF(numbers); i++)
                if (streq(name, numbers[i].name))
                        return sd_bus_message_read(m, "t", (uint64_t *)(base + numbers[i].offset));
        return sd_bus_message_skip(m, NULL); /* a newer agent's property */
}

static int read_report(sd_bus_message *m, AgentReport *rep)
{
        const char *name, *contents;
        int r;

        *rep = (AgentReport){};
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &name);
                if (r >= 0)
                        r = sd_bus_message_peek_type(m, NULL, &contents);
                if (r >= 0)
                        r = sd_bus_message_enter_container(m, 'v', contents);
                if (r >= 0)
                        r = read_property(m, name, rep);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r < 0)
                return r;
        return rep->mode && rep->version ? 0 : -EBADMSG;
}

/* --- printing --- */

static void print_summary(const AgentReport *rep)
{
        char until[64];
        long long left =
                (long long)(rep->not_after / USEC_PER_SEC) - (long long)(now(CLOCK_REALTIME) / USEC_PER_SEC);

        printf("linuxguard %s, %s mode, up %llu s\n", rep->version, rep->mode,
               (unsigned long long)rep->uptime_s);
        printf("Health:       %s%s%s\n", rep->healthy ? "healthy" : "UNHEALTHY",
               isempty(rep->health_reason) ? "" : ": ", strempty(rep->health_reason));
        printf("Agent:        %s\n", rep->enrolled ? rep->agent_id : "not enrolled");
        if (rep->not_after)
                printf("Certificate:  valid until %s (%lld s %s), %llu renewals\n",
                       format_rfc3339(rep->not_after, until, sizeof(until)), left < 0 ? -left : left,
                       left < 0 ? "ago" : "left", (unsigned long long)rep->renewals);
        printf("Sensors:      %s%s%s\n", strna(rep->event_source),
               isempty(rep->degraded_reason) ? "" : ", degraded: ", strempty(rep->degraded_reason));
        printf("Events:       %llu seen, %llu sent\n", (unsigned long long)rep->seen,
               (unsigned long long)rep->sent);
        printf("Queue:        %llu events, %llu bytes\n", (unsigned long long)rep->queued,
               (unsigned long long)rep->queue_bytes);
        printf("Spool:        %llu events spooled, %llu bytes pending\n", (unsigned long long)rep->spooled,
               (unsigned long long)rep->spool_bytes);
        printf("Dropped:     ");
        for (size_t i = 0; i < rep->n_dropped; i++)
                printf(" %s %llu%s", rep->dropped[i].cause, (unsigned long long)rep->dropped[i].n,
                       i + 1 < rep->n_dropped ? "," : "");
        printf("\n");
}

static json_object *string_or_null(const char *s)
{
        return isempty(s) ? NULL : json_object_new_string(s);
}

static int print_json(const AgentReport *rep)
{
        json_object *o = json_object_new_object(), *events = json_object_new_object(),
                    *dropped = json_object_new_object();
        char until[64];

        if (!o || !events || !dropped) {
                json_object_put(o);
                json_object_put(events);
                json_object_put(dropped);
                return -ENOMEM;
        }
        json_object_object_add(o, "version", json_object_new_string(rep->version));
        json_object_object_add(o, "mode", json_object_new_string(rep->mode));
        json_object_object_add(o, "uptimeSeconds", json_object_new_uint64(rep->uptime_s));
        json_object_object_add(o, "healthy", json_object_new_boolean(rep->healthy));
        json_object_object_add(o, "healthReason", string_or_null(rep->health_reason));
        json_object_object_add(o, "enrolled", json_object_new_boolean(rep->enrolled));
        json_object_object_add(o, "agentId", rep->enrolled ? string_or_null(rep->agent_id) : NULL);
        json_object_object_add(
                o, "certificateNotAfter",
                rep->not_after ? json_object_new_string(format_rfc3339(rep->not_after, until, sizeof(until)))
                               : NULL);
        json_object_object_add(o, "renewals", json_object_new_uint64(rep->renewals));
        json_object_object_add(o, "eventSource", string_or_null(rep->event_source));
        json_object_object_add(o, "degradedReason", string_or_null(rep->degraded_reason));
        json_object_object_add(events, "seen", json_object_new_uint64(rep->seen));
        json_object_object_add(events, "sent", json_object_new_uint64(rep->sent));
        json_object_object_add(events, "queued", json_object_new_uint64(rep->queued));
        json_object_object_add(events, "queueBytes", json_object_new_uint64(rep->queue_bytes));
        json_object_object_add(events, "spooled", json_object_new_uint64(rep->spooled));
        json_object_object_add(events, "spoolBytes", json_object_new_uint64(rep->spool_bytes));
        json_object_object_add(o, "events", events);
        for (size_t i = 0; i < rep->n_dropped; i++)
                json_object_object_add(dropped, rep->dropped[i].cause,
                                       json_object_new_uint64(rep->dropped[i].n));
        json_object_object_add(o, "dropped", dropped);
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return 0;
}

int run_status(int argc, char **argv)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *cmd = argv[0];
        bool health = streq(cmd, "health");
        StatusArgs args = {};
        AgentReport rep;
        char why[1024];
        int r;

        if (status_args_parse(cmd, argc, argv, &args) < 0)
                return EXIT_USAGE;
        if (args.help)
                return status_help(cmd), EXIT_OK;

        r = query_agent(args.socket, &reply, why, sizeof(why));
        if (r >= 0 && read_report(reply, &rep) < 0) {
                snprintf(why, sizeof(why), "the agent's answer cannot be read");
                r = -EBADMSG;
        }
        if (r < 0) {
                const char *what = r == -EACCES ? "" : "cannot reach the agent: ";

                if (health)
                        printf("unhealthy: %s%s\n", what, why);
                else
                        fprintf(stderr, "linuxguard status: %s%s\n", what, why);
                return EXIT_RUNTIME;
        }
        if (health) {
                printf("%s%s%s\n", rep.healthy ? "healthy" : "unhealthy",
                       isempty(rep.health_reason) ? "" : ": ", strempty(rep.health_reason));
                return rep.healthy ? EXIT_OK : EXIT_RUNTIME;
        }
        if (args.json)
                return print_json(&rep) < 0 ? EXIT_RUNTIME : EXIT_OK;
        print_summary(&rep);
        return EXIT_OK;
}
