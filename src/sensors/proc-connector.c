/* The process connector tells only which pid did what; everything else (parent, credentials, binary,
 * arguments, cgroup) is read from /proc right away, in the io callback, because a short-lived process may
 * be gone a millisecond later. What cannot be read is left out, never guessed: the header keeps uid
 * UINT32_MAX, an empty comm and parent 0, which the encoder omits and lists in unmapped.missing. A thread
 * that is gone is read from its process, which may still be there. A process that exits before its exit
 * event is read was usually read at its exec or uid change: a small table keeps what those reads found
 * (name, parent, ids), so its exit still says who it was.
 *
 * The kernel numbers nothing usable, so the agent numbers the events it hands out. When the socket
 * overflows, recv() fails with ENOBUFS once and an unknown number of events is lost: the counter then
 * skips one number, so the gap is visible in the stream and the overrun counter equals the number of gaps.
 */

#include "sensors/proc-connector.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/magic.h>
#include <linux/netlink.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/statfs.h>

#include "sensors/container-id.h"
#include "util/io-util.h"
#include "util/log.h"
#include "util/time-util.h"

#define PROC_CONNECTOR_RCVBUF (8 * 1024 * 1024)
#define PROC_CONNECTOR_BATCH  1024 /* messages per wake-up, so a storm does not starve the loop */
#define PROC_CONNECTOR_KNOWN  4096 /* processes remembered, one slot per pid modulo the size */

/* What a read of /proc found about a live process, for its exit once /proc has nothing. */
typedef struct KnownProcess {
        uint32_t pid; /* 0: empty slot */
        uint32_t ppid, uid, gid, euid, egid, auid;
        uint64_t cgroup_id;
        char comm[LG_COMM_LEN];
} KnownProcess;

struct ProcConnector {
        int fd;
        int proc_fd;
        pid_t exclude_pid;
        const char *cgroup2_root; /* where the unified hierarchy is mounted, NULL: nowhere */

        sd_event_source *io_source;
        SensorsHandler handler;
        SensorsBatchEnd batch_end;
        void *userdata;

        uint64_t seq;
        uint64_t events;
        uint64_t overruns;
        bool refusal_logged;

        /* The strings of the event being handed out. */
        char path[LG_PATH_MAX];
        char argv[LG_ARGV_MAX];
        char container_id[CONTAINER_ID_LEN + 1];
        KnownProcess known[PROC_CONNECTOR_KNOWN];
};

/* /sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid (v1 + v2) system. */
static const char *find_cgroup2_root(void)
{
        static const char *const candidates[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
        struct statfs st;

        FOREACH_ARRAY (c, candidates, ELEMENTSOF(candidates))
                if (statfs(*c, &st) >= 0 && (unsigned long)st.f_type == (unsigned long)CGROUP2_SUPER_MAGIC)
                        return *c;
        return NULL;
}

int proc_connector_new(ProcConnector **ret, pid_t exclude_pid)
{
        _cleanup_(proc_connector_freep) ProcConnector *p = NULL;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->fd = -EBADF;
        p->exclude_pid = exclude_pid == 0 ? getpid() : exclude_pid;
        p->cgroup2_root = find_cgroup2_root();
        p->proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (p->proc_fd < 0)
                return negative_errno();
        *ret = TAKE_PTR(p);
        return 0;
}

ProcConnector *proc_connector_free(ProcConnector *p)
{
        if (!p)
                return NULL;
        sd_event_source_disable_unref(p->io_source);
        safe_close(p->fd);
        safe_close(p->proc_fd);
        return mfree(p);
}

/* ---- /proc ------------------------------------------------------------------------------------------ */

static void parse_ids(const char *s, uint32_t *real, uint32_t *effective)
{
        unsigned long r, e;

        if (sscanf(s, "%lu %lu", &r, &e) == 2) {
                *real = (uint32_t)r;
                *effective = (uint32_t)e;
        }
}

int proc_status_parse(const char *content, ProcStatus *ret)
{
        ProcStatus s = {.uid = UINT32_MAX, .euid = UINT32_MAX, .gid = UINT32_MAX, .egid = UINT32_MAX};
        bool have_uid = false;

        for (const char *line = content; line && *line;) {
                const char *eol = strchrnul(line, '\n'), *v;

                if ((v = startswith(line, "Name:\t"))) {
                        size_t n =
                                (size_t)(eol - v) < sizeof(s.name) ? (size_t)(eol - v) : sizeof(s.name) - 1;
                        memcpy(s.name, v, n);
                        s.name[n] = 0;
                } else if ((v = startswith(line, "PPid:")))
                        s.ppid = (uint32_t)strtoul(v, NULL, 10);
                else if ((v = startswith(line, "Uid:"))) {
                        parse_ids(v, &s.uid, &s.euid);
                        have_uid = true;
                } else if ((v = startswith(line, "Gid:")))
                        parse_ids(v, &s.gid, &s.egid);
                line = *eol ? eol + 1 : NULL;
        }
        if (!have_uid)
                return -EINVAL;
        *ret = s;
        return 0;
}

static ssize_t read_proc_file(ProcConnector *p, uint32_t pid, const char *name, char *buf, size_t size)
{
        _cleanup_close_ int fd = -EBADF;
        char path[64];

        snprintf(path, sizeof(path), "%" PRIu32 "/%s", pid, name);
        fd = openat(p->proc_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        return loop_read(fd, buf, size);
}

static void fill_from_status(ProcConnector *p, uint32_t pid, struct lg_event_header *h)
{
        char buf[2048];
        ProcStatus s;
        ssize_t n = read_proc_file(p, pid, "status", buf, sizeof(buf) - 1);

        h->uid = h->euid = h->gid = h->egid = UINT32_MAX;
        if (n < 0)
                return;
        buf[n] = 0;
        if (proc_status_parse(buf, &s) < 0)
                return;
        memcpy(h->comm, s.name, sizeof(h->comm));
        if (h->ppid == 0)
                h->ppid = s.ppid;
        h->uid = s.uid, h->euid = s.euid, h->gid = s.gid, h->egid = s.egid;
}

static void fill_loginuid(ProcConnector *p, uint32_t pid, struct lg_event_header *h)
{
        char buf[16];
        ssize_t n = read_proc_file(p, pid, "loginuid", buf, sizeof(buf) - 1);

        h->auid = UINT32_MAX;
        if (n > 0) {
                buf[n] = 0;
                h->auid = (uint32_t)strtoul(buf, NULL, 10);
        }
}

/* cgroup v2 only: the "0::/path" line. The id is the kernfs file handle of the cgroup directory. */
static const char *fill_cgroup(ProcConnector *p, uint32_t pid, struct lg_event_header *h)
{
        char buf[1024], dir[1100];
        struct {
                struct file_handle fh;
                uint64_t id;
        } handle = {.fh.handle_bytes = sizeof(uint64_t)};
        const char *path = NULL;
        int mount_id;
        ssize_t n = read_proc_file(p, pid, "cgroup", buf, sizeof(buf) - 1);

        if (n <= 0)
                return NULL;
        buf[n] = 0;
        for (char *line = buf; line && *line;) {
                char *eol = strchrnul(line, '\n');
                bool last = !*eol;

                *eol = 0;
                if (startswith(line, "0::/")) {
                        path = line + strlen("0::");
                        break;
                }
                line = last ? NULL : eol + 1;
        }
        if (!path)
                return NULL;
        if (p->cgroup2_root) {
                snprintf(dir, sizeof(dir), "%s%s", p->cgroup2_root, path);
                if (name_to_handle_at(AT_FDCWD, dir, &handle.fh, &mount_id, 0) >= 0 &&
                    handle.fh.handle_bytes == sizeof(uint64_t))
                        h->cgroup_id = handle.id;
        }
        return container_id_from_cgroup_path(path, p->container_id) > 0 ? p->container_id : NULL;
}

/* The binary and the arguments, as LgEvent strings in p's buffers, flagged when cut. */
static void fill_exec(ProcConnector *p, uint32_t pid, LgEvent *ev)
{
        char link[64];
        ssize_t n;

        snprintf(link, sizeof(link), "%" PRIu32 "/exe", pid);
        n = readlinkat(p->proc_fd, link, p->path, sizeof(p->path));
        if (n > 0) {
                if ((size_t)n >= sizeof(p->path)) {
                        n = sizeof(p->path) - 1;
                        ev->exec.flags |= LG_EXEC_FILENAME_TRUNCATED;
                }
                p->path[n] = 0;
                ev->path = p->path;
                ev->path_len = (size_t)n;
        }

        /* One byte more than kept tells whether there was more. */
        n = read_proc_file(p, pid, "cmdline", p->argv, sizeof(p->argv));
        if (n <= 0)
                return; /* gone, or a zombie: no arguments to report */
        if ((size_t)n >= sizeof(p->argv)) {
                n = sizeof(p->argv);
                ev->exec.flags |= LG_EXEC_ARGV_TRUNCATED;
                p->argv[n - 1] = 0;
        } else if (p->argv[n - 1] != 0) {
                p->argv[n++] = 0; /* rewritten by setproctitle() without a terminator */
        }
        ev->argv = p->argv;
        ev->argv_size = (size_t)n;
        for (ssize_t i = 0; i < n; i++)
                ev->argc += p->argv[i] == 0;
}

/* /proc/PID of the task, or of its process when the thread is gone; -ESRCH when neither is there. */
static int proc_dir_of(ProcConnector *p, uint32_t pid, uint32_t tgid, uint32_t *ret)
{
        const uint32_t candidates[] = {pid, tgid};
        char dir[16];

        FOREACH_ARRAY (c, candidates, ELEMENTSOF(candidates)) {
                snprintf(dir, sizeof(dir), "%" PRIu32, *c);
                if (faccessat(p->proc_fd, dir, F_OK, 0) >= 0) {
                        *ret = *c;
                        return 0;
                }
        }
        return -ESRCH;
}

int proc_connector_fill(ProcConnector *p, uint32_t pid, uint32_t tgid, LgEvent *ev)
{
        struct lg_event_header *h = &ev->hdr;
        uint32_t from;
        int r;

        h->uid = h->euid = h->gid = h->egid = h->auid = UINT32_MAX;
        r = proc_dir_of(p, pid, tgid, &from);
        if (r < 0)
                return r;
        fill_from_status(p, from, h);
        fill_loginuid(p, from, h);
        ev->container_id = fill_cgroup(p, from, h);
        if (h->type == LG_EVENT_EXEC)
                fill_exec(p, from, ev);
        return 0;
}

static KnownProcess *known_slot(ProcConnector *p, uint32_t pid)
{
        return &p->known[pid % PROC_CONNECTOR_KNOWN];
}

static void known_remember(ProcConnector *p, const struct lg_event_header *h)
{
        KnownProcess *k = known_slot(p, h->pid);

        *k = (KnownProcess){.pid = h->pid,
                            .ppid = h->ppid,
                            .uid = h->uid,
                            .gid = h->gid,
                            .euid = h->euid,
                            .egid = h->egid,
                            .auid = h->auid,
                            .cgroup_id = h->cgroup_id};
        memcpy(k->comm, h->comm, sizeof(k->comm));
}

/* The exit of a process gone from /proc: what the last read found, if its slot still holds it. */
static void known_recall_and_forget(ProcConnector *p, struct lg_event_header *h)
{
        KnownProcess *k = known_slot(p, h->pid);

        if (k->pid != h->pid)
                return;
        if (h->uid == UINT32_MAX) {
                memcpy(h->comm, k->comm, sizeof(h->comm));
                if (h->ppid == 0)
                        h->ppid = k->ppid;
                h->uid = k->uid, h->gid = k->gid, h->euid = k->euid, h->egid = k->egid;
                h->auid = k->auid, h->cgroup_id = k->cgroup_id;
        }
        k->pid = 0;
}

/* ---- events ----------------------------------------------------------------------------------------- */

/* The connector stamps events with ktime_get_ns() (CLOCK_MONOTONIC); LgEvent wants CLOCK_BOOTTIME. */
static uint64_t monotonic_to_boottime_ns(void)
{
        struct timespec boot, mono;

        clock_gettime(CLOCK_BOOTTIME, &boot);
        clock_gettime(CLOCK_MONOTONIC, &mono);
        return (uint64_t)((int64_t)(boot.tv_sec - mono.tv_sec) * 1000000000LL +
                          (boot.tv_nsec - mono.tv_nsec));
}

static void deliver(ProcConnector *p, LgEvent *ev)
{
        int r;

        ev->source = LG_EVENT_SOURCE_PROC_CONNECTOR;
        ev->hdr.seq = ++p->seq;
        p->events++;
        r = p->handler(ev, p->userdata);
        if (r < 0)
                log_debug_errno(r, "Event handler failed, ignoring: %m");
}

/* Returns 1 when an event was delivered. */
static int handle_proc_event(ProcConnector *p, const struct proc_event *pe, uint64_t boot_offset_ns)
{
        LgEvent ev = {};
        struct lg_event_header *h = &ev.hdr;
        uint32_t pid, tgid;
        int r;

        switch (pe->what) {
        case PROC_EVENT_NONE:
                /* The answer to PROC_CN_MCAST_LISTEN. */
                if (pe->event_data.ack.err != 0 && !p->refusal_logged) {
                        p->refusal_logged = true;
                        log_warning_errno(
                                (int)pe->event_data.ack.err,
                                "The process connector refused to report events (needs CAP_NET_ADMIN "
                                "in the initial namespaces): %m");
                }
                return 0;
        case PROC_EVENT_EXEC:
                pid = (uint32_t)pe->event_data.exec.process_pid;
                tgid = (uint32_t)pe->event_data.exec.process_tgid;
                h->type = LG_EVENT_EXEC;
                break;
        case PROC_EVENT_EXIT:
                pid = (uint32_t)pe->event_data.exit.process_pid;
                tgid = (uint32_t)pe->event_data.exit.process_tgid;
                if (pid != tgid)
                        return 0; /* a thread, not the process */
                h->type = LG_EVENT_EXIT;
                h->ppid = (uint32_t)pe->event_data.exit.parent_tgid;
                ev.exit.exit_code = (int32_t)pe->event_data.exit.exit_code;
                break;
        case PROC_EVENT_UID:
                pid = (uint32_t)pe->event_data.id.process_pid;
                tgid = (uint32_t)pe->event_data.id.process_tgid;
                h->type = LG_EVENT_CRED;
                break;
        default:
                return 0;
        }
        if (tgid == (uint32_t)p->exclude_pid)
                return 0;

        h->pid = tgid;
        h->tid = pid;
        h->cpu = (uint16_t)pe->cpu;
        h->ts_ns = pe->timestamp_ns + boot_offset_ns;
        r = proc_connector_fill(p, pid, tgid, &ev);
        if (h->type == LG_EVENT_CRED) {
                /* The event carries the new uids; status may already show later ones. */
                h->uid = pe->event_data.id.r.ruid;
                h->euid = pe->event_data.id.e.euid;
        }
        if (h->type == LG_EVENT_EXIT)
                known_recall_and_forget(p, h);
        else if (pid == tgid && r >= 0)
                known_remember(p, h);
        else if (pid == tgid)
                known_slot(p, tgid)->pid = 0; /* whatever the slot held is not this process */
        deliver(p, &ev);
        return 1;
}

/* One datagram: netlink messages, each a cn_msg holding one proc_event. Returns the events delivered. */
static int handle_datagram(ProcConnector *p, const void *buf, size_t len, uint64_t boot_offset_ns)
{
        int delivered = 0;

        for (const struct nlmsghdr *nlh = buf; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
                const struct cn_msg *cn = NLMSG_DATA(nlh);
                struct proc_event pe = {};
                size_t payload = NLMSG_PAYLOAD(nlh, 0);

                if (nlh->nlmsg_type == NLMSG_NOOP || nlh->nlmsg_type == NLMSG_ERROR ||
                    payload < sizeof(*cn) || cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC ||
                    cn->len > payload - sizeof(*cn) || cn->len < offsetof(struct proc_event, event_data) + 8)
                        continue;
                /* Older kernels send shorter events (no parent in exit): the rest stays zero. */
                memcpy(&pe, cn->data, cn->len < sizeof(pe) ? cn->len : sizeof(pe));
                delivered += handle_proc_event(p, &pe, boot_offset_ns);
        }
        return delivered;
}

static int on_socket_ready(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        ProcConnector *p = userdata;
        uint64_t boot_offset_ns = monotonic_to_boottime_ns();
        uint8_t buf[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
        int delivered = 0;

        for (unsigned i = 0; i < PROC_CONNECTOR_BATCH; i++) {
                struct sockaddr_nl from = {};
                socklen_t from_len = sizeof(from);
                ssize_t n =
                        recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &from_len);

                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                break;
                        if (errno == ENOBUFS) {
                                p->overruns++;
                                p->seq++; /* the gap that marks the loss */
                                /* Lost exits leave entries a reused pid could be taken for. */
                                memset(p->known, 0, sizeof(p->known));
                                log_debug("Process connector socket overrun, events lost (%" PRIu64
                                          " so far).",
                                          p->overruns);
                                continue;
                        }
                        log_debug_errno(negative_errno(),
                                        "Failed to read the process connector, ignoring: %m");
                        break;
                }
                if (from.nl_pid != 0)
                        continue; /* only the kernel speaks for the process connector */
                delivered += handle_datagram(p, buf, (size_t)n, boot_offset_ns);
        }
        if (delivered > 0 && p->batch_end)
                p->batch_end(p->userdata);
        return 0;
}

/* ---- setup ------------------------------------------------------------------------------------------ */

static int send_listen(int fd)
{
        struct {
                struct nlmsghdr nlh;
                struct cn_msg cn;
                uint32_t op;
        } __attribute__((packed)) msg = {
                .nlh =
                        {
                                .nlmsg_len = sizeof(msg),
                                .nlmsg_type = NLMSG_DONE,
                                .nlmsg_pid = 0,
                        },
                .cn =
                        {
                                .id = {.idx = CN_IDX_PROC, .val = CN_VAL_PROC},
                                .len = sizeof(uint32_t),
                        },
                .op = PROC_CN_MCAST_LISTEN,
        };

        return RET_NERRNO((int)send(fd, &msg, sizeof(msg), 0));
}

int proc_connector_open(ProcConnector *p)
{
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_nl addr = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC};
        int size = PROC_CONNECTOR_RCVBUF, r;

        if (p->fd >= 0)
                return -EBUSY;
        fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR);
        if (fd < 0)
                return log_debug_errno(negative_errno(), "Failed to open a NETLINK_CONNECTOR socket: %m");
        /* A large buffer absorbs exec storms; FORCE needs CAP_NET_ADMIN, the plain one is capped by
         * rmem_max. */
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
                (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
                return log_debug_errno(negative_errno(), "Failed to join the process connector group: %m");
        r = send_listen(fd);
        if (r < 0)
                return log_debug_errno(r, "Failed to ask the process connector for events: %m");
        p->fd = TAKE_FD(fd);
        return 0;
}

int proc_connector_attach_event(ProcConnector *p, sd_event *e, SensorsHandler handler,
                                SensorsBatchEnd batch_end, void *userdata)
{
        int r;

        if (p->fd < 0 || !handler)
                return -EINVAL;
        if (p->io_source)
                return -EBUSY;
        p->handler = handler;
        p->batch_end = batch_end;
        p->userdata = userdata;
        r = sd_event_add_io(e, &p->io_source, p->fd, EPOLLIN, on_socket_ready, p);
        if (r < 0)
                return log_debug_errno(r, "Failed to watch the process connector: %m");
        (void)sd_event_source_set_description(p->io_source, "proc-connector");
        return 0;
}

void proc_connector_read_stats(const ProcConnector *p, ProcConnectorStats *ret)
{
        *ret = (ProcConnectorStats){
                .events = p->events,
                .overruns = p->overruns,
                .last_seq = p->seq,
        };
}
