#pragma once
/* Degraded mode's event source: the kernel's netlink process connector (exec, exit, uid changes), completed
 * from /proc and handed out as LgEvents through the sensors' handler, so the same output path encodes them.
 */

#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "sensors/sensors.h"
#include "util/macro.h"

typedef struct ProcConnectorStats {
        uint64_t events;   /* handed to the handler */
        uint64_t overruns; /* ENOBUFS: the socket overflowed and events were lost; each left one sequence gap
                            */
        uint64_t last_seq; /* sequence numbers are the agent's own, from 1 */
} ProcConnectorStats;

/* What /proc/PID/status says about a process; fields it lacks stay as initialised (ids UINT32_MAX). */
typedef struct ProcStatus {
        char name[16]; /* Name:, the comm */
        uint32_t ppid;
        uint32_t uid, euid, gid, egid;
} ProcStatus;

typedef struct ProcConnector ProcConnector;

/* exclude_pid: never reported; 0 means this process. */
int proc_connector_new(ProcConnector **ret, pid_t exclude_pid);
ProcConnector *proc_connector_free(ProcConnector *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(ProcConnector *, proc_connector_free);

/* Opens the NETLINK_CONNECTOR socket, joins CN_IDX_PROC and sends PROC_CN_MCAST_LISTEN. The kernel's
 * answer (it refuses without CAP_NET_ADMIN or outside the initial pid namespace) arrives asynchronously
 * and is logged when it is a refusal. */
int proc_connector_open(ProcConnector *p);
/* Adds the socket to the loop as the io source "proc-connector". */
int proc_connector_attach_event(ProcConnector *p, sd_event *e, SensorsHandler handler,
                                SensorsBatchEnd batch_end, void *userdata);
void proc_connector_read_stats(const ProcConnector *p, ProcConnectorStats *ret);

/* Fills ev from /proc/PID, or /proc/TGID when the thread is gone: name, parent, uids, login uid, cgroup,
 * container and, for an exec, binary and arguments (strings in p's buffers, valid until the next call).
 * What /proc no longer has stays unknown: uids UINT32_MAX, empty name, parent 0. -ESRCH when neither
 * directory is there. */
int proc_connector_fill(ProcConnector *p, uint32_t pid, uint32_t tgid, LgEvent *ev);

/* Pure: parses the content of /proc/PID/status. -EINVAL when it has no Uid: line. */
int proc_status_parse(const char *content, ProcStatus *ret);
