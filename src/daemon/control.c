/* The control API.
 *
 * One interface, two transports. The unix socket works in every mode, needs no bus daemon and no
 * writable root (it falls back to an abstract socket), so `linuxguard status` and `health` work in a
 * shell-less container and in an nspawn test alike. Each accepted connection is checked with SO_PEERCRED
 * before any byte of D-Bus is parsed: only root and the agent's own uid get a connection; anyone else is
 * closed at once (the client names the rule, it can read the agent's uid from the socket). The socket
 * file is created 0600 besides, and only in a directory that no untrusted user owns or may write to.
 *
 * The address can be taken before the agent binds it (an abstract name is free for anyone; a path in a
 * directory others may write to can be planted). The client therefore talks only to a server whose
 * SO_PEERCRED uid it trusts (agent_uid_trusted()), and an agent that finds its address held by a uid it
 * does not trust says so as a warning and in its health reason, naming the impostor's pid and uid. In host
 * mode the same object is also exported on the system bus under a well-known name; who may talk to it there
 * is the D-Bus policy's job (units/org.linuxguard.Agent1.conf), and the methods check the caller's uid once
 * more.
 *
 * Properties are computed on demand from one snapshot (agent-status.h); nothing is cached, and no change
 * signals are sent: the counters change with every event. */

#include "daemon/control.h"

#include <errno.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>

#include "daemon/agent-status.h"
#include "daemon/manager.h"
#include "daemon/runtime-dir.h"
#include "ship/sink.h"
#include "util/log.h"

#define CONTROL_MAX_PEERS 32

typedef struct ControlPeer ControlPeer;

struct Control {
        Manager *manager;
        int listen_fd;
        sd_event_source *listen_source;
        char socket_path[sizeof(((struct sockaddr_un *)NULL)->sun_path)]; /* to unlink; "" if abstract */
        ControlPeer *peers;
        unsigned n_peers;
        sd_bus *system_bus;
        sd_id128_t server_id;
        char conflict[256]; /* who holds our address, if an untrusted uid does; "" otherwise */
};

struct ControlPeer {
        Control *control;
        ControlPeer *prev, *next;
        sd_bus *bus;
};

int control_socket_address(const char *spec, struct sockaddr_un *ret, socklen_t *ret_len)
{
        size_t n = spec ? strlen(spec) : 0;

        if (n < 2 || n >= sizeof(ret->sun_path) || (spec[0] != '/' && spec[0] != '@'))
                return -EINVAL;
        *ret = (struct sockaddr_un){.sun_family = AF_UNIX};
        memcpy(ret->sun_path, spec, n);
        if (spec[0] == '@')
                ret->sun_path[0] = '\0'; /* abstract: no trailing NUL, the length says where it ends */
        *ret_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (spec[0] == '/'));
        return 0;
}

/* --- the object --- */

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        AgentStatus st;
        int r;

        manager_get_status(userdata, &st);
        if (streq(property, "Mode"))
                return sd_bus_message_append(reply, "s", st.mode);
        if (streq(property, "Version"))
                return sd_bus_message_append(reply, "s", st.version);
        if (streq(property, "Enrolled"))
                return sd_bus_message_append(reply, "b", st.enrolled);
        if (streq(property, "AgentId"))
                return sd_bus_message_append(reply, "s", st.agent_id);
        if (streq(property, "DegradedReason"))
                return sd_bus_message_append(reply, "s", st.degraded_reason);
        if (streq(property, "EventSource"))
                return sd_bus_message_append(reply, "s", st.event_source);
        if (streq(property, "UptimeSeconds"))
                return sd_bus_message_append(reply, "t", st.uptime_s);
        if (streq(property, "EventsSeen"))
                return sd_bus_message_append(reply, "t", st.seen);
        if (streq(property, "EventsSent"))
                return sd_bus_message_append(reply, "t", st.delivery.sent);
        if (streq(property, "Queued"))
                return sd_bus_message_append(reply, "t", st.delivery.queued);
        if (streq(property, "QueueBytes"))
                return sd_bus_message_append(reply, "t", st.delivery.queue_bytes);
        if (streq(property, "Spooled"))
                return sd_bus_message_append(reply, "t", st.delivery.spooled);
        if (streq(property, "SpoolBytes"))
                return sd_bus_message_append(reply, "t", st.delivery.spool_bytes);
        if (streq(property, "CertificateNotAfter"))
                return sd_bus_message_append(reply, "t", st.not_after == USEC_INFINITY ? 0 : st.not_after);
        if (streq(property, "Renewals"))
                return sd_bus_message_append(reply, "t", st.renewals);
        if (streq(property, "Healthy"))
                return sd_bus_message_append(reply, "b", st.healthy);
        if (streq(property, "HealthReason"))
                return sd_bus_message_append(reply, "s", st.health_reason);
        if (!streq(property, "Dropped"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_PROPERTY, "No property %s", property);

        r = sd_bus_message_open_container(reply, 'a', "{st}");
        for (DropCause i = 0; r >= 0 && i < _DROP_CAUSE_MAX; i++)
                r = sd_bus_message_append(reply, "{st}", drop_cause_to_string(i), st.delivery.dropped[i]);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* The client's side of the same properties, for `linuxguard status` and `health`. */
static int read_dropped(sd_bus_message *m, AgentStatus *st)
{
        const char *cause;
        uint64_t n;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{st}");
        while (r >= 0 && (r = sd_bus_message_read(m, "{st}", &cause, &n)) > 0) {
                DropCause c = drop_cause_from_string(cause);

                if (c >= 0)
                        st->delivery.dropped[c] = n;
        }
        return r < 0 ? r : sd_bus_message_exit_container(m);
}

static int read_bool(sd_bus_message *m, bool *ret)
{
        int b, r;

        r = sd_bus_message_read(m, "b", &b);
        if (r >= 0)
                *ret = b;
        return r;
}

static int read_property(sd_bus_message *m, const char *name, AgentStatus *st)
{
        static const struct {
                const char *name;
                size_t offset;
        } strings[] =
                {
                        {"Mode", offsetof(AgentStatus, mode)},
                        {"Version", offsetof(AgentStatus, version)},
                        {"AgentId", offsetof(AgentStatus, agent_id)},
                        {"DegradedReason", offsetof(AgentStatus, degraded_reason)},
                        {"EventSource", offsetof(AgentStatus, event_source)},
                },
          numbers[] = {
                  {"UptimeSeconds", offsetof(AgentStatus, uptime_s)},
                  {"EventsSeen", offsetof(AgentStatus, seen)},
                  {"EventsSent", offsetof(AgentStatus, delivery.sent)},
                  {"Queued", offsetof(AgentStatus, delivery.queued)},
                  {"QueueBytes", offsetof(AgentStatus, delivery.queue_bytes)},
                  {"Spooled", offsetof(AgentStatus, delivery.spooled)},
                  {"SpoolBytes", offsetof(AgentStatus, delivery.spool_bytes)},
                  {"CertificateNotAfter", offsetof(AgentStatus, not_after)},
                  {"Renewals", offsetof(AgentStatus, renewals)},
          };
        char *base = (char *)st;
        const char *text;
        int r;

        if (streq(name, "Dropped"))
                return read_dropped(m, st);
        if (streq(name, "Enrolled"))
                return read_bool(m, &st->enrolled);
        if (streq(name, "Healthy"))
                return read_bool(m, &st->healthy);
        if (streq(name, "HealthReason")) {
                r = sd_bus_message_read(m, "s", &text);
                if (r >= 0)
                        snprintf(st->health_reason, sizeof(st->health_reason), "%s", text);
                return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(strings); i++)
                if (streq(name, strings[i].name))
                        return sd_bus_message_read(m, "s", (const char **)(base + strings[i].offset));
        for (size_t i = 0; i < ELEMENTSOF(numbers); i++)
                if (streq(name, numbers[i].name))
                        return sd_bus_message_read(m, "t", (uint64_t *)(base + numbers[i].offset));
        return sd_bus_message_skip(m, NULL); /* a newer agent's property */
}

int control_read_status(sd_bus_message *reply, AgentStatus *st)
{
        const char *name, *contents;
        int r;

        *st = (AgentStatus){};
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                r = sd_bus_message_read(reply, "s", &name);
                if (r >= 0)
                        r = sd_bus_message_peek_type(reply, NULL, &contents);
                if (r >= 0)
                        r = sd_bus_message_enter_container(reply, 'v', contents);
                if (r >= 0)
                        r = read_property(reply, name, st);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r < 0)
                return r;
        if (st->not_after == 0) /* on the bus, 0 says there is no certificate */
                st->not_after = USEC_INFINITY;
        return st->mode && st->version ? 0 : -EBADMSG;
}

/* Methods change the agent: the caller must be root or the agent's uid, on either transport. */
static int check_caller(sd_bus_message *msg, sd_bus_error *error)
{
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t uid;
        int r;

        r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot identify the caller: %m");
        if (!control_peer_allowed(uid, geteuid()))
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Only root and uid %u may control this agent.",
                                         (unsigned)geteuid());
        return 0;
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        int r = check_caller(msg, error);

        if (r < 0)
                return r;
        log_info("Reload requested over the control API.");
        r = manager_reload(userdata);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Reload failed, nothing changed (see the log): %m");
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_flush(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        Manager *m = userdata;
        int r = check_caller(msg, error);

        if (r < 0)
                return r;
        r = sink_flush(m->sink);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to flush %s: %m", sink_describe(m->sink));
        return sd_bus_reply_method_return(msg, NULL);
}

#define PROPERTY(name, sig) SD_BUS_PROPERTY(name, sig, property_get, 0, 0)

static const sd_bus_vtable agent_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Mode", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Version", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        PROPERTY("Enrolled", "b"),
        PROPERTY("AgentId", "s"),
        PROPERTY("DegradedReason", "s"),
        PROPERTY("EventSource", "s"),
        PROPERTY("UptimeSeconds", "t"),
        PROPERTY("EventsSeen", "t"),
        PROPERTY("EventsSent", "t"),
        PROPERTY("Queued", "t"),
        PROPERTY("QueueBytes", "t"),
        PROPERTY("Spooled", "t"),
        PROPERTY("SpoolBytes", "t"),
        PROPERTY("Dropped", "a{st}"),
        PROPERTY("CertificateNotAfter", "t"),
        PROPERTY("Renewals", "t"),
        PROPERTY("Healthy", "b"),
        PROPERTY("HealthReason", "s"),
        SD_BUS_METHOD("Reload", "", "", method_reload, 0),
        SD_BUS_METHOD("Flush", "", "", method_flush, 0),
        SD_BUS_VTABLE_END,
};

/* --- the socket --- */

static ControlPeer *control_peer_free(ControlPeer *p)
{
        if (!p)
                return NULL;
        if (p->prev)
                p->prev->next = p->next;
        else
                p->control->peers = p->next;
        if (p->next)
                p->next->prev = p->prev;
        p->control->n_peers--;
        sd_bus_flush_close_unref(p->bus);
        return mfree(p);
}

static int on_peer_disconnected(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        control_peer_free(userdata);
        return 0;
}

static int control_peer_new(Control *c, int fd)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        ControlPeer *p;
        int r;

        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_fd(bus, fd, fd);
        if (r < 0)
                return safe_close(fd), r;
        r = sd_bus_set_server(bus, 1, c->server_id);
        if (r >= 0)
                r = sd_bus_set_anonymous(bus, 1);
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, CONTROL_OBJECT_PATH, CONTROL_INTERFACE, agent_vtable,
                                             c->manager);
        if (r >= 0)
                r = sd_bus_attach_event(bus, c->manager->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return r;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        r = sd_bus_match_signal(bus, NULL, NULL, "/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local",
                                "Disconnected", on_peer_disconnected, p);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0)
                return free(p), r;
        *p = (ControlPeer){.control = c, .next = c->peers, .bus = TAKE_PTR(bus)};
        if (c->peers)
                c->peers->prev = p;
        c->peers = p;
        c->n_peers++;
        return 0;
}

static int on_control_connection(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        Control *c = userdata;
        struct ucred ucred = {};
        socklen_t len = sizeof(ucred);
        _cleanup_close_ int peer = -EBADF;
        int r;

        peer = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (peer < 0)
                return 0; /* EAGAIN, or the peer went away: nothing to do */
        if (getsockopt(peer, SOL_SOCKET, SO_PEERCRED, &ucred, &len) < 0) {
                log_warning_errno(errno,
                                  "Failed to read the credentials of a control client, closing it: %m");
                return 0;
        }
        if (!control_peer_allowed(ucred.uid, geteuid())) {
                log_notice(
                        "Refused a control connection from pid %d, uid %u: only root and uid %u may use it.",
                        (int)ucred.pid, (unsigned)ucred.uid, (unsigned)geteuid());
                return 0;
        }
        if (c->n_peers >= CONTROL_MAX_PEERS) {
                log_warning("Refused a control connection from pid %d: %u clients are connected already.",
                            (int)ucred.pid, c->n_peers);
                return 0;
        }
        r = control_peer_new(c, TAKE_FD(peer));
        if (r < 0)
                log_warning_errno(r, "Failed to set up a control connection from pid %d, ignoring: %m",
                                  (int)ucred.pid);
        return 0;
}

/* 1 if a live server answers on the address (its credentials in *ret_holder, if non-NULL), 0 if nobody
 * does (a stale socket file). */
static int socket_in_use(const struct sockaddr_un *sa, socklen_t len, struct ucred *ret_holder)
{
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        socklen_t n = sizeof(*ret_holder);

        if (fd < 0)
                return -errno;
        if (connect(fd, (const struct sockaddr *)sa, len) < 0)
                return errno == ECONNREFUSED ? 0 : -errno;
        if (ret_holder && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, ret_holder, &n) < 0)
                return -errno;
        return 1;
}

/* A socket file in a directory that someone else owns, or may write to without the sticky bit, could be
 * replaced by them: -EPERM. */
static int check_socket_dir(const char *path)
{
        _cleanup_free_ char *dir = strdup(path);
        char *slash;
        struct stat st;

        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (slash == dir)
                slash[1] = '\0';
        else
                *slash = '\0';
        if (stat(dir, &st) < 0)
                return -errno;
        if (!agent_uid_trusted(st.st_uid) || ((st.st_mode & 0022) && !(st.st_mode & S_ISVTX)))
                return log_warning_errno(EPERM,
                                         "Not listening on %s: its directory %s is owned by uid %u with "
                                         "mode %04o, so another user could replace the socket. Use a "
                                         "directory owned by root or uid %u that only its owner may "
                                         "write to.",
                                         path, dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777),
                                         (unsigned)geteuid());
        return 0;
}

static int control_bind(Control *c, const char *spec)
{
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa;
        socklen_t len;
        mode_t old_umask;
        int r;

        r = control_socket_address(spec, &sa, &len);
        if (r < 0)
                return r;
        if (spec[0] == '/') {
                r = check_socket_dir(spec);
                if (r < 0)
                        return r;
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* The file is 0600 from the start: no window in which another uid could connect. */
        old_umask = umask(0177);
        r = bind(fd, (struct sockaddr *)&sa, len) < 0 ? -errno : 0;
        if (r == -EADDRINUSE && spec[0] == '/' && socket_in_use(&sa, len, NULL) == 0) {
                (void)unlink(spec);
                r = bind(fd, (struct sockaddr *)&sa, len) < 0 ? -errno : 0;
        }
        umask(old_umask);
        if (r < 0)
                return r;
        if (listen(fd, SOMAXCONN) < 0)
                return -errno;
        r = sd_event_add_io(c->manager->event, &c->listen_source, fd, EPOLLIN, on_control_connection, c);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(c->listen_source, "control-socket");
        if (spec[0] == '/')
                snprintf(c->socket_path, sizeof(c->socket_path), "%s", spec);
        c->listen_fd = TAKE_FD(fd);
        return 0;
}

/* Someone holds our address. Another agent (root, our uid, the package's user) is the ordinary case of
 * a second agent; anyone else is an impostor, and every client will refuse it. */
static void control_address_taken(Control *c, const char *spec)
{
        struct sockaddr_un sa;
        struct ucred holder = {};
        socklen_t len;

        if (control_socket_address(spec, &sa, &len) < 0 || socket_in_use(&sa, len, &holder) <= 0 ||
            agent_uid_trusted(holder.uid)) {
                log_notice("Another agent (pid %d) serves the control API on %s; 'linuxguard status' "
                           "reaches that one.",
                           (int)holder.pid, spec);
                return;
        }
        snprintf(c->conflict, sizeof(c->conflict),
                 "control socket %s is held by pid %d, uid %u, not by an agent", spec, (int)holder.pid,
                 (unsigned)holder.uid);
        log_warning("The control socket %s is held by pid %d, uid %u, which is neither root nor uid %u nor "
                    "user %s: an impostor. This agent runs without a control socket, and 'linuxguard "
                    "status' refuses that process. Stop it (kill %d) and restart the agent%s.",
                    spec, (int)holder.pid, (unsigned)holder.uid, (unsigned)geteuid(), AGENT_SYSTEM_USER,
                    (int)holder.pid,
                    c->manager->config->profile.control_system_bus ? "; the system bus still answers" : "");
}

static void control_listen(Control *c)
{
        const Settings *s = &c->manager->config->settings;
        const char *spec = settings_str(s, SETTING_CONTROL_SOCKET) ?: CONTROL_SOCKET_DEFAULT;
        bool is_default = s->v[SETTING_CONTROL_SOCKET].source <= SOURCE_DEFAULT;
        int r;

        r = control_bind(c, spec);
        /* A read-only or missing /run/linuxguard (a container's read-only root): the abstract socket. */
        if (r < 0 && is_default && r != -EADDRINUSE) {
                log_debug_errno(r, "Cannot listen on %s (%m), using %s instead.", spec,
                                CONTROL_SOCKET_ABSTRACT);
                spec = CONTROL_SOCKET_ABSTRACT;
                r = control_bind(c, spec);
        }
        if (r == -EADDRINUSE)
                control_address_taken(c, spec);
        else if (r == -EPERM)
                snprintf(c->conflict, sizeof(c->conflict), "no control API: %s is in an unsafe directory",
                         spec);
        else if (r < 0)
                log_warning_errno(r, "Failed to listen on the control socket %s, no control API there: %m",
                                  spec);
        else
                log_info("Control API on %s (root and uid %u only).", spec, (unsigned)geteuid());
}

static int on_name_requested(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        Control *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        if (e) {
                log_notice("Not on the system bus as %s (%s); the control socket still answers.",
                           CONTROL_BUS_NAME, e->message ?: e->name);
                c->system_bus = sd_bus_flush_close_unref(c->system_bus);
                return 0;
        }
        log_info("Control API on the system bus as %s.", CONTROL_BUS_NAME);
        return 0;
}

/* Asynchronous all the way: a bus that hangs must not stall the loop that reads the sensors. */
static void control_publish_on_system_bus(Control *c)
{
        int r;

        r = sd_bus_open_system(&c->system_bus);
        if (r >= 0)
                r = sd_bus_add_object_vtable(c->system_bus, NULL, CONTROL_OBJECT_PATH, CONTROL_INTERFACE,
                                             agent_vtable, c->manager);
        if (r >= 0)
                r = sd_bus_attach_event(c->system_bus, c->manager->event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_request_name_async(c->system_bus, NULL, CONTROL_BUS_NAME, 0, on_name_requested,
                                              c);
        if (r < 0) {
                log_notice_errno(r, "Not on the system bus as %s (%m); the control socket still answers.",
                                 CONTROL_BUS_NAME);
                c->system_bus = sd_bus_flush_close_unref(c->system_bus);
        }
}

int control_start(Control **ret, Manager *m)
{
        Control *c;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->manager = m;
        c->listen_fd = -EBADF;
        r = sd_id128_randomize(&c->server_id);
        if (r < 0) {
                free(c);
                return r;
        }
        control_listen(c);
        if (m->config->profile.control_system_bus)
                control_publish_on_system_bus(c);
        *ret = c;
        return 0;
}

const char *control_conflict(const Control *c)
{
        return c && c->conflict[0] ? c->conflict : NULL;
}

Control *control_free(Control *c)
{
        if (!c)
                return NULL;
        while (c->peers)
                control_peer_free(c->peers);
        sd_bus_flush_close_unref(c->system_bus);
        sd_event_source_disable_unref(c->listen_source);
        safe_close(c->listen_fd);
        if (c->socket_path[0])
                (void)unlink(c->socket_path);
        return mfree(c);
}
