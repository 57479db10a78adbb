/* `linuxguard status` and `linuxguard health`.
 *
 * Both read the running agent's org.linuxguard.Agent1 properties in one GetAll call. The agent is looked
 * for on the control socket (the --control-socket option, else the config file's control_socket, else
 * /run/linuxguard/control.sock, then the abstract @linuxguard/control), then on the system bus. `health`
 * is built for Kubernetes exec probes in an image without a shell: one line on stdout, exit 0 or 1. When
 * the agent closes the connection because this uid may not use it, the reason is spelled out: the
 * socket's SO_PEERCRED tells the client which uid the agent runs as. The same credentials decide whether
 * to talk at all: anyone may bind an abstract name first, so a server that is not root, this uid or the
 * package's user is an impostor, refused before a byte is sent, and named with its pid and uid. */

#include "cmd/commands.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <systemd/sd-bus.h>

#include "config.h"
#include "core/agent-config.h"
#include "core/cli.h"
#include "core/exit-status.h"
#include "daemon/control.h"
#include "daemon/runtime-dir.h"
#include "identity/host-store.h"
#include "util/macro.h"
#include "util/time-util.h"

#define STATUS_CALL_TIMEOUT (5 * USEC_PER_SEC)

typedef struct StatusArgs {
        bool health;
        bool json;
        bool help;
        const char *socket;
} StatusArgs;

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
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &agent, &len) < 0)
                return snprintf(why, size, "%s: cannot tell who serves it: %s", spec, strerror(errno)),
                       -EPERM;
        if (!agent_uid_trusted(agent.uid))
                return snprintf(why, size,
                                "refusing %s: it is served by pid %d, uid %u, which is neither root nor "
                                "uid %u nor user %s, so not a linuxguard agent; see who it is (ps -p %d) "
                                "and stop it",
                                spec, (int)agent.pid, (unsigned)agent.uid, (unsigned)geteuid(),
                                AGENT_SYSTEM_USER, (int)agent.pid),
                       -EPERM;

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

/* -EACCES when an agent refused us, -EPERM when we refused an impostor, else the error of the last place
 * tried. `why` says it all. */
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
                if (r >= 0 || r == -EACCES || r == -EPERM)
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

/* --- printing --- */

static void print_summary(const AgentStatus *st)
{
        char until[64];
        long long left =
                (long long)(st->not_after / USEC_PER_SEC) - (long long)(now(CLOCK_REALTIME) / USEC_PER_SEC);

        printf("linuxguard %s, %s mode, up %llu s\n", st->version, st->mode,
               (unsigned long long)st->uptime_s);
        printf("Health:       %s%s%s\n", st->healthy ? "healthy" : "UNHEALTHY",
               isempty(st->health_reason) ? "" : ": ", st->health_reason);
        printf("Agent:        %s\n", st->enrolled ? st->agent_id : "not enrolled");
        if (st->not_after != USEC_INFINITY)
                printf("Certificate:  valid until %s (%lld s %s), %llu renewals\n",
                       format_rfc3339(st->not_after, until, sizeof(until)), left < 0 ? -left : left,
                       left < 0 ? "ago" : "left", (unsigned long long)st->renewals);
        printf("Sensors:      %s%s%s\n", strna(st->event_source),
               isempty(st->degraded_reason) ? "" : ", degraded: ", strempty(st->degraded_reason));
        printf("Events:       %llu seen, %llu sent\n", (unsigned long long)st->seen,
               (unsigned long long)st->delivery.sent);
        printf("Queue:        %llu events, %llu bytes\n", (unsigned long long)st->delivery.queued,
               (unsigned long long)st->delivery.queue_bytes);
        printf("Spool:        %llu events spooled, %llu bytes pending\n",
               (unsigned long long)st->delivery.spooled, (unsigned long long)st->delivery.spool_bytes);
        printf("Dropped:     ");
        for (DropCause i = 0; i < _DROP_CAUSE_MAX; i++)
                printf(" %s %llu%s", drop_cause_to_string(i), (unsigned long long)st->delivery.dropped[i],
                       i + 1 < _DROP_CAUSE_MAX ? "," : "");
        printf("\n");
}

static json_object *string_or_null(const char *s)
{
        return isempty(s) ? NULL : json_object_new_string(s);
}

static int print_json(const AgentStatus *st)
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
        json_object_object_add(o, "version", json_object_new_string(st->version));
        json_object_object_add(o, "mode", json_object_new_string(st->mode));
        json_object_object_add(o, "uptimeSeconds", json_object_new_uint64(st->uptime_s));
        json_object_object_add(o, "healthy", json_object_new_boolean(st->healthy));
        json_object_object_add(o, "healthReason", string_or_null(st->health_reason));
        json_object_object_add(o, "enrolled", json_object_new_boolean(st->enrolled));
        json_object_object_add(o, "agentId", st->enrolled ? string_or_null(st->agent_id) : NULL);
        json_object_object_add(o, "certificateNotAfter",
                               st->not_after != USEC_INFINITY ? json_object_new_string(format_rfc3339(
                                                                        st->not_after, until, sizeof(until)))
                                                              : NULL);
        json_object_object_add(o, "renewals", json_object_new_uint64(st->renewals));
        json_object_object_add(o, "eventSource", string_or_null(st->event_source));
        json_object_object_add(o, "degradedReason", string_or_null(st->degraded_reason));
        json_object_object_add(events, "seen", json_object_new_uint64(st->seen));
        json_object_object_add(events, "sent", json_object_new_uint64(st->delivery.sent));
        json_object_object_add(events, "queued", json_object_new_uint64(st->delivery.queued));
        json_object_object_add(events, "queueBytes", json_object_new_uint64(st->delivery.queue_bytes));
        json_object_object_add(events, "spooled", json_object_new_uint64(st->delivery.spooled));
        json_object_object_add(events, "spoolBytes", json_object_new_uint64(st->delivery.spool_bytes));
        json_object_object_add(o, "events", events);
        for (DropCause i = 0; i < _DROP_CAUSE_MAX; i++)
                json_object_object_add(dropped, drop_cause_to_string(i),
                                       json_object_new_uint64(st->delivery.dropped[i]));
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
        AgentStatus st;
        char why[1024];
        int r;

        if (status_args_parse(cmd, argc, argv, &args) < 0)
                return EXIT_USAGE;
        if (args.help)
                return status_help(cmd), EXIT_OK;

        r = query_agent(args.socket, &reply, why, sizeof(why));
        if (r >= 0 && control_read_status(reply, &st) < 0) {
                snprintf(why, sizeof(why), "the agent's answer cannot be read");
                r = -EBADMSG;
        }
        if (r < 0) {
                const char *what = r == -EACCES || r == -EPERM ? "" : "cannot reach the agent: ";

                if (health)
                        printf("unhealthy: %s%s\n", what, why);
                else
                        fprintf(stderr, "linuxguard status: %s%s\n", what, why);
                return EXIT_RUNTIME;
        }
        if (health) {
                printf("%s%s%s\n", st.healthy ? "healthy" : "unhealthy",
                       isempty(st.health_reason) ? "" : ": ", st.health_reason);
                return st.healthy ? EXIT_OK : EXIT_RUNTIME;
        }
        if (args.json)
                return print_json(&st) < 0 ? EXIT_RUNTIME : EXIT_OK;
        print_summary(&st);
        return EXIT_OK;
}
