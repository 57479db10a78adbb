#pragma once
/* The control API org.linuxguard.Agent1 (status properties, Reload, Flush) on sd-bus: a peer-to-peer
 * connection per client on a unix socket in every mode, and the well-known name on the system bus when the
 * profile says so (host mode). */

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-bus.h>

#include "core/mode.h"
#include "daemon/agent-status.h"

#define CONTROL_BUS_NAME    "org.linuxguard.Agent1"
#define CONTROL_OBJECT_PATH "/org/linuxguard/Agent1"
#define CONTROL_INTERFACE   "org.linuxguard.Agent1"
/* The default socket, and the abstract one used instead when RUNTIME_DIR cannot hold it (a read-only root
 * filesystem). "@NAME" names an abstract socket everywhere a socket is configured. */
#define CONTROL_SOCKET_DEFAULT  RUNTIME_DIR "/control.sock"
#define CONTROL_SOCKET_ABSTRACT "@linuxguard/control"

struct Manager;
typedef struct Control Control;

/* Listens on the socket setting (and the system bus). Failures to listen are logged and leave that part
 * off; the agent runs on without it. Only -ENOMEM is returned. */
int control_start(Control **ret, struct Manager *m);
/* Why the agent has no control socket although it wanted one, when someone else is to blame (an untrusted
 * uid holds the address, or the socket's directory is unsafe); NULL otherwise. NULL-safe. */
const char *control_conflict(const Control *c);
/* Closes every connection and removes the socket file. NULL-safe. */
Control *control_free(Control *c);

/* The client side: reads the reply of Properties.GetAll on the interface into a status (strings borrowed
 * from the reply; properties of a newer agent skipped). -EBADMSG when Mode or Version is missing. */
int control_read_status(sd_bus_message *reply, AgentStatus *ret);

/* "/path" or "@abstract" as a sockaddr_un; -EINVAL if empty or too long. */
int control_socket_address(const char *spec, struct sockaddr_un *ret, socklen_t *ret_len);
/* Whether a peer of `peer_uid` may use the API of an agent running as `agent_uid`: root or the same uid. */
static inline bool control_peer_allowed(uid_t peer_uid, uid_t agent_uid)
{
        return peer_uid == 0 || peer_uid == agent_uid;
}
