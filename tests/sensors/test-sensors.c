/* The sensors against the running kernel: load and attach the real programs, run marker workloads in child
 * processes, and assert each expected event with its fields; then shrink the ring buffer, run an open storm
 * without draining, and assert the drop counter equals the sequence gaps. TAP on stdout; skips only when
 * not root or the kernel has no BTF, and in CI (CI=true), which provides both, fails instead. Every wait
 * is bounded. */

#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "core/event-json.h"
#include "sensors/sensors.h"
#include "util/log.h"

#define WAIT_USEC   (10 * USEC_PER_SEC)
#define STORM_OPENS 2000
#define MAX_SEEN    4096

static unsigned n_tap;
static unsigned n_failed;

static bool tap(bool ok, const char *fmt, ...) _printf_(2, 3);
static bool tap(bool ok, const char *fmt, ...)
{
        va_list ap;

        printf("%s %u - ", ok ? "ok" : "not ok", ++n_tap);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        fflush(stdout);
        if (!ok)
                n_failed++;
        return ok;
}

static bool in_ci(void)
{
        return streq_ptr(getenv("CI"), "true");
}

#define CI_MUST_PROVIDE "CI must provide this: a failure in CI, not a skip"

/* A TAP skip plan and exit status 0 (under protocol 'tap' meson reads the plan; 77 would be an error). */
static _noreturn_ void skip_all(const char *why)
{
        if (in_ci()) {
                printf("not ok 1 - %s (" CI_MUST_PROVIDE ")\n1..1\n", why);
                exit(1);
        }
        printf("1..0 # SKIP %s\n", why);
        exit(0);
}

/* One skipped check; a failed one in CI. */
static void skip_unless_ci(const char *why)
{
        if (in_ci())
                tap(false, "%s (" CI_MUST_PROVIDE ")", why);
        else
                printf("ok %u # SKIP %s\n", ++n_tap, why);
}

static _noreturn_ void bail(const char *what, int r)
{
        printf("Bail out! %s: %s\n", what, strerror(r < 0 ? -r : r));
        exit(1);
}

/* ---- what the handler keeps --------------------------------------------------------------------------- */

typedef struct Seen {
        LgEvent ev; /* string pointers cleared: copies below */
        char path[LG_PATH_MAX];
        char path2[LG_PATH_MAX];
        char argv[LG_ARGV_MAX];
        size_t argv_size;
} Seen;

typedef struct Collector {
        Seen *seen;
        size_t n_seen;
        pid_t watch[64]; /* keep events of these processes only (all when n_watch == 0) */
        size_t n_watch;
        uint64_t total;
        uint64_t from_self;
        uint64_t json_bad;
        uint64_t batches;
        uint64_t max_seq;
        uint8_t *seq_seen; /* bitmap for the storm phase */
        size_t seq_cap;
        uint64_t seq_dups;
        EventContext ctx;
        StrBuf json;
} Collector;

static bool watched_pid(const Collector *c, uint32_t pid)
{
        if (c->n_watch == 0)
                return true;
        for (size_t i = 0; i < c->n_watch; i++)
                if ((uint32_t)c->watch[i] == pid)
                        return true;
        return false;
}

static void check_json(Collector *c, const LgEvent *ev)
{
        json_object *o;

        strbuf_reset(&c->json);
        if (event_to_json(ev, &c->ctx, &c->json) < 0) {
                c->json_bad++;
                return;
        }
        o = json_tokener_parse(c->json.data);
        if (!o || !json_object_is_type(o, json_type_object))
                c->json_bad++;
        json_object_put(o);
}

static int on_event(const LgEvent *ev, void *userdata)
{
        Collector *c = userdata;
        Seen *s;

        c->total++;
        if (ev->hdr.pid == (uint32_t)getpid())
                c->from_self++;
        if (ev->hdr.seq > c->max_seq)
                c->max_seq = ev->hdr.seq;
        if (c->seq_seen && ev->hdr.seq < c->seq_cap) {
                uint8_t bit = (uint8_t)(1u << (ev->hdr.seq & 7));
                if (c->seq_seen[ev->hdr.seq >> 3] & bit)
                        c->seq_dups++;
                c->seq_seen[ev->hdr.seq >> 3] |= bit;
        }
        check_json(c, ev);
        if (!watched_pid(c, ev->hdr.pid) || c->n_seen >= MAX_SEEN)
                return 0;

        s = &c->seen[c->n_seen++];
        *s = (Seen){.ev = *ev};
        s->ev.path = s->ev.path2 = s->ev.name = s->ev.argv = s->ev.container_id = NULL;
        if (ev->path)
                snprintf(s->path, sizeof(s->path), "%s", ev->path);
        if (ev->name)
                snprintf(s->path, sizeof(s->path), "%s", ev->name);
        if (ev->path2)
                snprintf(s->path2, sizeof(s->path2), "%s", ev->path2);
        if (ev->argv) {
                s->argv_size = ev->argv_size < sizeof(s->argv) ? ev->argv_size : sizeof(s->argv);
                memcpy(s->argv, ev->argv, s->argv_size);
        }
        return 0;
}

static void on_batch_end(void *userdata)
{
        ((Collector *)userdata)->batches++;
}

typedef bool (*Match)(const Seen *s, const void *arg);

static const Seen *find_event(const Collector *c, Match match, const void *arg)
{
        for (size_t i = 0; i < c->n_seen; i++)
                if (match(&c->seen[i], arg))
                        return &c->seen[i];
        return NULL;
}

/* Runs the loop until match finds an event or WAIT_USEC pass. */
static const Seen *wait_event(sd_event *e, const Collector *c, Match match, const void *arg)
{
        usec_t deadline = now(CLOCK_MONOTONIC) + WAIT_USEC;
        const Seen *s;

        while (!(s = find_event(c, match, arg)) && now(CLOCK_MONOTONIC) < deadline)
                if (sd_event_run(e, 50 * USEC_PER_MSEC) < 0)
                        break;
        return s;
}

/* ---- children ----------------------------------------------------------------------------------------- */

static int wait_child(pid_t pid)
{
        usec_t deadline = now(CLOCK_MONOTONIC) + WAIT_USEC;
        int status;

        for (;;) {
                pid_t r = waitpid(pid, &status, WNOHANG);

                if (r == pid)
                        return status;
                if (r < 0 || now(CLOCK_MONOTONIC) > deadline) {
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, 0);
                        return -1;
                }
                usleep(5000);
        }
}

static pid_t spawn(void (*fn)(const void *arg), const void *arg)
{
        pid_t pid = fork();

        if (pid < 0)
                bail("fork", errno);
        if (pid == 0) {
                fn(arg);
                _exit(0);
        }
        return pid;
}

static void child_exec_true(const void *marker)
{
        execl("/bin/true", "true", (const char *)marker, (char *)NULL);
        _exit(127);
}

typedef struct FileWork {
        char from[256];
        char to[256];
} FileWork;

static void child_file_ops(const void *arg)
{
        const FileWork *w = arg;
        int fd = open(w->from, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);

        if (fd < 0)
                _exit(1);
        close(fd);
        if (rename(w->from, w->to) < 0 || unlink(w->to) < 0)
                _exit(2);
}

/* Relative paths: from the working directory (a subdirectory of the watched one, so the walk names more
 * than one component), through a directory fd, and a rename between the two; then a relative open from
 * "/" of a path under /etc/. */
static void child_relative_ops(const void *arg)
{
        const char *dir = arg;
        int dfd, fd, p[2];

        /* A dirfd that is no directory names nothing: this open fails and must not be reported as
         * /etc/lg-not-a-dir. */
        if (pipe(p) < 0)
                _exit(1);
        fd = openat(p[0], "etc/lg-not-a-dir", O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
                _exit(1);
        if (chdir(dir) < 0 || mkdir("sub", 0700) < 0 || chdir("sub") < 0)
                _exit(1);
        fd = open("rel-open", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0)
                _exit(2);
        close(fd);
        dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || chdir("/") < 0)
                _exit(3);
        fd = openat(dfd, "sub/rel-at", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0)
                _exit(4);
        close(fd);
        /* The working directory differs from dirfd's at each call, so that a swapped argument shows. */
        if (chdir(dir) < 0 || chdir("sub") < 0 || renameat(dfd, "sub/rel-at", AT_FDCWD, "rel-renamed") < 0 ||
            chdir("/") < 0 || unlinkat(dfd, "sub/rel-renamed", 0) < 0 || chdir(dir) < 0 ||
            unlink("sub/rel-open") < 0 || rmdir("sub") < 0)
                _exit(5);
        if (chdir("/") < 0)
                _exit(6);
        fd = open("etc/hostname", O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
                close(fd);
}

/* A relative open inside a tmpfs mounted in the watched directory (the walk crosses the mount), then one
 * inside a chroot to the watched directory (the walk stops at the task's root, naming the path as the
 * process sees it). */
static void child_mount_chroot_ops(const void *arg)
{
        const char *dir = arg;
        char mnt[PATH_MAX + 8];
        int fd;

        /* In a mount namespace of its own, gone with it; exit 9 when there is none to be had. */
        snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("tmpfs", mnt, "tmpfs", 0, "size=64k") < 0)
                _exit(9);
        if (chdir(mnt) < 0)
                _exit(1);
        fd = open("in-tmpfs", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0)
                _exit(2);
        close(fd);
        if (chroot(dir) < 0 || chdir("/etc") < 0)
                _exit(3);
        fd = open("in-chroot", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0)
                _exit(4);
        close(fd);
}

static void child_setuid(const void *arg)
{
        if (setuid(65534) < 0)
                _exit(1);
}

/* Listens on loopback, connects to itself and accepts: one connect and one accept event. */
static void child_tcp(const void *arg)
{
        int family = *(const int *)arg;
        struct sockaddr_storage ss = {.ss_family = (sa_family_t)family};
        socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
        int l, c, a;

        if (family == AF_INET)
                ((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        else
                ((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
        l = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (l < 0 || bind(l, (struct sockaddr *)&ss, len) < 0 || listen(l, 4) < 0 ||
            getsockname(l, (struct sockaddr *)&ss, &len) < 0)
                _exit(1);
        c = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c < 0 || connect(c, (struct sockaddr *)&ss, len) < 0)
                _exit(2);
        a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (a < 0)
                _exit(3);
}

static void child_sleep(const void *arg)
{
        sleep(20);
}

static void child_ptrace_seize(const void *arg)
{
        pid_t target = *(const pid_t *)arg;

        if (ptrace(PTRACE_SEIZE, target, NULL, NULL) < 0)
                _exit(1);
}

static void child_bpf_load(const void *arg)
{
        struct bpf_insn insns[] = {
                {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
                {.code = BPF_JMP | BPF_EXIT},
        };
        union bpf_attr attr = {
                .prog_type = BPF_PROG_TYPE_SOCKET_FILTER,
                .insn_cnt = 2,
                .insns = (uint64_t)(uintptr_t)insns,
                .license = (uint64_t)(uintptr_t) "GPL",
        };

        strncpy(attr.prog_name, "lg_marker", sizeof(attr.prog_name) - 1);
        if (syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr)) < 0)
                _exit(1);
}

/* ---- matchers ----------------------------------------------------------------------------------------- */

typedef struct Want {
        uint16_t type;
        pid_t pid;
        uint32_t op;
        const char *text;
        int family;
} Want;

static bool match_exec(const Seen *s, const void *arg)
{
        const Want *w = arg;

        if (s->ev.hdr.type != LG_EVENT_EXEC || s->ev.hdr.pid != (uint32_t)w->pid)
                return false;
        for (size_t i = 0; i < s->argv_size; i += strnlen(s->argv + i, s->argv_size - i) + 1)
                if (streq(s->argv + i, w->text))
                        return true;
        return false;
}

static bool match_type_pid_op(const Seen *s, const void *arg)
{
        const Want *w = arg;

        if (s->ev.hdr.type != w->type || s->ev.hdr.pid != (uint32_t)w->pid)
                return false;
        switch (w->type) {
        case LG_EVENT_FILE:
                return s->ev.file.op == w->op && (!w->text || streq(s->path, w->text));
        case LG_EVENT_NET:
                return s->ev.net.op == w->op && s->ev.net.family == w->family;
        case LG_EVENT_CRED:
                return s->ev.cred.op == w->op;
        default:
                return true;
        }
}

static bool match_file_path(const Seen *s, const void *arg)
{
        return s->ev.hdr.type == LG_EVENT_FILE && streq(s->path, arg);
}

static bool match_bpf_name(const Seen *s, const void *arg)
{
        return s->ev.hdr.type == LG_EVENT_BPF_PROG && streq(s->path, arg);
}

/* ---- phase 1: every sensor, marker workloads ---------------------------------------------------------- */

static Collector collector_new(void)
{
        Collector c = {
                .seen = calloc(MAX_SEEN, sizeof(Seen)),
                .ctx = {.boot_to_realtime_ns = sensors_boot_to_realtime_ns(),
                        .hostname = "test",
                        .product_version = "test"},
        };

        if (!c.seen)
                bail("calloc", ENOMEM);
        return c;
}

static void collector_done(Collector *c)
{
        free(c->seen);
        free(c->seq_seen);
        strbuf_done(&c->json);
}

static void watch(Collector *c, pid_t pid)
{
        if (c->n_watch < ELEMENTSOF(c->watch))
                c->watch[c->n_watch++] = pid;
}

static void test_exec_exit(sd_event *e, Collector *c)
{
        char marker[64];
        const Seen *s;
        pid_t pid;

        snprintf(marker, sizeof(marker), "--lg-marker-%d-%ld", getpid(), (long)now(CLOCK_MONOTONIC));
        pid = spawn(child_exec_true, marker);
        watch(c, pid);
        s = wait_event(e, c, match_exec, &(Want){.pid = pid, .text = marker});
        if (tap(s, "exec of /bin/true with the marker argument reported")) {
                tap(streq(s->path, "/bin/true"), "exec path is %s", s->path);
                tap(s->ev.hdr.ppid == (uint32_t)getpid(), "exec ppid is the test (%u)", s->ev.hdr.ppid);
                tap(s->ev.hdr.uid == getuid() && s->ev.hdr.euid == geteuid(), "exec uid/euid");
                tap(s->ev.argc == 2 && streq(s->argv, "true"), "exec argv[0] and argc (%zu)", s->ev.argc);
                tap(streq(s->ev.hdr.comm, "true"), "exec comm is %s", s->ev.hdr.comm);
                tap(s->ev.hdr.seq > 0 && s->ev.hdr.ts_ns > 0 && s->ev.hdr.cgroup_id > 0,
                    "exec carries seq, time and cgroup id");
        }
        tap(wait_child(pid) == 0, "exec child exited 0");
        s = wait_event(e, c, match_type_pid_op, &(Want){.type = LG_EVENT_EXIT, .pid = pid});
        if (tap(s, "exit reported"))
                tap(s->ev.exit.exit_code == 0, "exit code 0 (%d)", s->ev.exit.exit_code);
}

static void test_files(sd_event *e, Collector *c, const char *dir)
{
        FileWork w;
        char self_path[300];
        const Seen *s;
        pid_t pid;
        int fd;

        /* The test's own open comes first: excluded in the kernel, it must be absent once the child's later
         * events have arrived. */
        watch(c, getpid());
        snprintf(self_path, sizeof(self_path), "%s/self-%d", dir, getpid());
        fd = open(self_path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd >= 0)
                close(fd);
        (void)unlink(self_path);

        snprintf(w.from, sizeof(w.from), "%s/marker-%d", dir, getpid());
        snprintf(w.to, sizeof(w.to), "%s/marker-%d.renamed", dir, getpid());
        pid = spawn(child_file_ops, &w);
        watch(c, pid);
        tap(wait_child(pid) == 0, "file child succeeded");

        s = wait_event(e, c, match_type_pid_op,
                       &(Want){.type = LG_EVENT_FILE, .pid = pid, .op = LG_FILE_OPEN, .text = w.from});
        if (tap(s, "open of the marker file reported"))
                tap(s->ev.file.result >= 0 && (s->ev.file.flags & O_CREAT) && s->ev.file.mode == 0600,
                    "open result %d, flags %#o, mode %#o", s->ev.file.result, s->ev.file.flags,
                    s->ev.file.mode);
        s = wait_event(e, c, match_type_pid_op,
                       &(Want){.type = LG_EVENT_FILE, .pid = pid, .op = LG_FILE_RENAME, .text = w.from});
        if (tap(s, "rename of the marker file reported"))
                tap(streq(s->path2, w.to) && s->ev.file.result == 0, "rename target %s, result %d", s->path2,
                    s->ev.file.result);
        s = wait_event(e, c, match_type_pid_op,
                       &(Want){.type = LG_EVENT_FILE, .pid = pid, .op = LG_FILE_UNLINK, .text = w.to});
        tap(s && s->ev.file.result == 0, "unlink of the renamed file reported");
        tap(!find_event(c, match_file_path, self_path), "the excluded process's own open is absent");
}

static void test_relative_paths(sd_event *e, Collector *c, const char *dir)
{
        char real[PATH_MAX], want[PATH_MAX + 32], want2[PATH_MAX + 32];
        const Seen *s;
        pid_t pid;
        int r;

        if (!realpath(dir, real))
                bail("realpath", errno);
        pid = spawn(child_relative_ops, real);
        watch(c, pid);
        tap(wait_child(pid) == 0, "relative-path child succeeded");

        snprintf(want, sizeof(want), "%s/sub/rel-open", real);
        s = wait_event(e, c, match_type_pid_op,
                       &(Want){.type = LG_EVENT_FILE, .pid = pid, .op = LG_FILE_OPEN, .text = want});
        tap(s && (s->ev.file.str_flags & LG_FILE_PATH_RESOLVED) && s->ev.file.result >= 0,
            "open(\"rel-open\") in the working directory reported as %s", want);
        snprintf(want, sizeof(want), "%s/sub/rel-at", real);
        s = wait_event(e, c, match_type_pid_op,
                       &(Want){.type = LG_EVENT_FILE, .pid = pid, .op = LG_FILE_OPEN, .text = want});
        tap(s && (s->ev.file.str_flags & LG_FILE_PATH_RESOLVED),
            "openat(dirfd, \"sub/rel-at\") reported as %s", want);
        snprintf(want2, sizeof(want2), "%s/sub/rel-renamed", real);
        s = wait_event(e, c, match_type_pid_op,
                       &(Want){.type = LG_EVENT_FILE, .pid = pid, .op = LG_FILE_RENAME, .text = want});
        tap(s && streq(s->path2, want2) &&
                    (s->ev.file.str_flags & (LG_FILE_PATH_RESOLVED | LG_FILE_PATH2_RESOLVED)) ==
                            (LG_FILE_PATH_RESOLVED | LG_FILE_PATH2_RESOLVED),
            "renameat(dirfd, ..., AT_FDCWD, ...) reported with both paths resolved (target %s)",
            s ? s->path2 : "none");
        s = wait_event(e, c, match_type_pid_op,
                       &(Want){.type = LG_EVENT_FILE, .pid = pid, .op = LG_FILE_UNLINK, .text = want2});
        tap(s && s->ev.file.result == 0, "unlinkat(dirfd, \"sub/rel-renamed\") reported as %s", want2);
        s = wait_event(
                e, c, match_type_pid_op,
                &(Want){.type = LG_EVENT_FILE, .pid = pid, .op = LG_FILE_OPEN, .text = "/etc/hostname"});
        tap(s && (s->ev.file.str_flags & LG_FILE_PATH_RESOLVED),
            "open(\"etc/hostname\") from / matches the /etc/ prefix as /etc/hostname");
        tap(!find_event(c, match_type_pid_op,
                        &(Want){.type = LG_EVENT_FILE,
                                .pid = pid,
                                .op = LG_FILE_OPEN,
                                .text = "/etc/lg-not-a-dir"}),
            "openat(pipe fd, \"etc/lg-not-a-dir\") is not joined to anything");

        snprintf(want, sizeof(want), "%s/mnt", real);
        snprintf(want2, sizeof(want2), "%s/etc", real);
        if (mkdir(want, 0700) < 0 || mkdir(want2, 0700) < 0)
                bail("mkdir", errno);
        pid = spawn(child_mount_chroot_ops, real);
        watch(c, pid);
        r = wait_child(pid);
        if (WIFEXITED(r) && WEXITSTATUS(r) == 9) {
                skip_unless_ci("relative paths across a mount and in a chroot: no private mount namespace");
        } else {
                tap(r == 0, "mount/chroot child succeeded");
                snprintf(want, sizeof(want), "%s/mnt/in-tmpfs", real);
                s = wait_event(e, c, match_type_pid_op,
                               &(Want){.type = LG_EVENT_FILE, .pid = pid, .op = LG_FILE_OPEN, .text = want});
                tap(s, "open(\"in-tmpfs\") on a tmpfs mounted below the watched directory reported as %s",
                    want);
                s = wait_event(e, c, match_type_pid_op,
                               &(Want){.type = LG_EVENT_FILE,
                                       .pid = pid,
                                       .op = LG_FILE_OPEN,
                                       .text = "/etc/in-chroot"});
                tap(s && (s->ev.file.str_flags & LG_FILE_PATH_RESOLVED),
                    "open(\"in-chroot\") in a chroot's /etc reported as the process sees it: "
                    "/etc/in-chroot");
        }
        snprintf(want, sizeof(want), "%s/etc/in-chroot", real);
        (void)unlink(want);
        (void)rmdir(want2);
        snprintf(want, sizeof(want), "%s/mnt", real);
        (void)rmdir(want);
}

static void test_network(sd_event *e, Collector *c, int family)
{
        const char *name = family == AF_INET ? "IPv4" : "IPv6";
        const Seen *conn, *acc;
        char ip[INET6_ADDRSTRLEN];
        pid_t pid;

        pid = spawn(child_tcp, &family);
        watch(c, pid);
        tap(wait_child(pid) == 0, "%s connect/accept child succeeded", name);
        conn = wait_event(e, c, match_type_pid_op,
                          &(Want){.type = LG_EVENT_NET, .pid = pid, .op = LG_NET_CONNECT, .family = family});
        acc = wait_event(e, c, match_type_pid_op,
                         &(Want){.type = LG_EVENT_NET, .pid = pid, .op = LG_NET_ACCEPT, .family = family});
        if (!tap(conn && acc, "%s connect and accept reported", name))
                return;
        inet_ntop(family, conn->ev.net.raddr, ip, sizeof(ip));
        tap(streq(ip, family == AF_INET ? "127.0.0.1" : "::1"), "%s connect destination %s", name, ip);
        tap(conn->ev.net.protocol == IPPROTO_TCP && conn->ev.net.result == 0, "%s connect is TCP, result 0",
            name);
        tap(conn->ev.net.rport == acc->ev.net.lport && conn->ev.net.lport == acc->ev.net.rport &&
                    conn->ev.net.lport != 0 && conn->ev.net.rport != 0,
            "%s 4-tuples agree: %u -> %u", name, conn->ev.net.lport, conn->ev.net.rport);
        inet_ntop(family, acc->ev.net.laddr, ip, sizeof(ip));
        tap(streq(ip, family == AF_INET ? "127.0.0.1" : "::1") &&
                    memcmp(conn->ev.net.laddr, acc->ev.net.raddr, 16) == 0,
            "%s accept on %s, peer is the connecting socket", name, ip);
}

static void test_setuid(sd_event *e, Collector *c)
{
        const Seen *s;
        pid_t pid = spawn(child_setuid, NULL);

        watch(c, pid);
        tap(wait_child(pid) == 0, "setuid child succeeded");
        s = wait_event(e, c, match_type_pid_op,
                       &(Want){.type = LG_EVENT_CRED, .pid = pid, .op = LG_CRED_SETUID});
        if (!tap(s, "setuid(65534) reported"))
                return;
        tap(s->ev.cred.args[0] == 65534 && s->ev.cred.result == 0, "setuid argument and result");
        tap(s->ev.cred.old_uid == 0 && s->ev.hdr.uid == 65534 && s->ev.hdr.euid == 65534,
            "uid before %u, after %u/%u", s->ev.cred.old_uid, s->ev.hdr.uid, s->ev.hdr.euid);
        tap(s->ev.cred.old_cap_effective != 0 && s->ev.cred.cap_effective == 0, "capabilities dropped");
}

static void test_kernel(sd_event *e, Collector *c)
{
        pid_t sleeper = spawn(child_sleep, NULL), tracer;
        const Seen *s;

        tracer = spawn(child_ptrace_seize, &sleeper);
        watch(c, tracer);
        tap(wait_child(tracer) == 0, "ptrace child succeeded");
        s = wait_event(e, c, match_type_pid_op, &(Want){.type = LG_EVENT_PTRACE, .pid = tracer});
        tap(s && s->ev.ptrace.target_pid == (uint32_t)sleeper && s->ev.ptrace.request == PTRACE_SEIZE,
            "PTRACE_SEIZE of the sleeper reported");
        kill(sleeper, SIGKILL);
        (void)wait_child(sleeper);

        tracer = spawn(child_bpf_load, NULL);
        watch(c, tracer);
        tap(wait_child(tracer) == 0, "bpf loader child succeeded");
        s = wait_event(e, c, match_bpf_name, "lg_marker");
        tap(s && s->ev.hdr.pid == (uint32_t)tracer &&
                    s->ev.bpf_prog.prog_type == BPF_PROG_TYPE_SOCKET_FILTER,
            "BPF program load by another process reported");
}

static void phase_markers(const char *dir)
{
        _cleanup_(sensors_freep) Sensors *s = NULL;
        const char *prefixes[] = {"/etc/", dir};
        char dir_prefix[PATH_MAX + 1], real[PATH_MAX];
        SensorsConfig cfg;
        SensorsStats st;
        Collector c = collector_new();
        sd_event *e = NULL;
        int r;

        /* Resolved: the kernel reports relative paths with the directory's real name. */
        if (!realpath(dir, real))
                bail("realpath", errno);
        snprintf(dir_prefix, sizeof(dir_prefix), "%s/", real);
        prefixes[1] = dir_prefix;
        sensors_config_init(&cfg);
        cfg.file_prefixes = prefixes;
        cfg.n_file_prefixes = ELEMENTSOF(prefixes);
        cfg.poll_interval = 20 * USEC_PER_MSEC;

        r = sensors_new(&s, &cfg);
        if (r < 0)
                bail("sensors_new", r);
        r = sensors_load_and_attach(s);
        if (!tap(r >= 0, "programs load and attach (%s)", r < 0 ? strerror(-r) : "ok"))
                bail("sensors_load_and_attach", r);
        if (sd_event_new(&e) < 0)
                bail("sd_event_new", ENOMEM);
        r = sensors_attach_event(s, e, on_event, on_batch_end, &c);
        tap(r >= 0, "ring buffer added to the event loop");

        test_exec_exit(e, &c);
        test_files(e, &c, dir);
        test_relative_paths(e, &c, dir);
        test_network(e, &c, AF_INET);
        test_network(e, &c, AF_INET6);
        test_setuid(e, &c);
        test_kernel(e, &c);

        tap(c.from_self == 0, "no event from the test's own pid (%" PRIu64 " of %" PRIu64 ")", c.from_self,
            c.total);
        tap(c.json_bad == 0, "every event encodes to valid JSON (%" PRIu64 " bad of %" PRIu64 ")",
            c.json_bad, c.total);
        tap(c.batches > 0, "batch-end callback ran (%" PRIu64 " batches for %" PRIu64 " events)", c.batches,
            c.total);
        r = sensors_read_stats(s, &st);
        tap(r >= 0 && st.decode_errors == 0, "no decode errors");
        printf("# %u programs attached, %u unavailable on this kernel; %" PRIu64 " events, %" PRIu64
               " dropped\n",
               st.programs_attached, st.programs_unavailable, st.events, st.ring_drops);
        sensors_free(TAKE_PTR(s));
        sd_event_unref(e);
        collector_done(&c);
}

/* ---- phase 2: a ring buffer too small for a storm ----------------------------------------------------- */

typedef struct Storm {
        int go[2], done[2], last[2];
        char path[256];
        char marker[256];
} Storm;

static void storm_child(const void *arg)
{
        const Storm *st = arg;
        char b;

        if (read(st->go[0], &b, 1) != 1)
                _exit(1);
        for (int i = 0; i < STORM_OPENS; i++) {
                int fd = open(st->path, O_RDONLY | O_CLOEXEC);
                if (fd >= 0)
                        close(fd);
        }
        if (write(st->done[1], "d", 1) != 1 || read(st->last[0], &b, 1) != 1)
                _exit(2);
        close(open(st->marker, O_CREAT | O_RDONLY | O_CLOEXEC, 0600));
}

static bool wait_readable(int fd)
{
        struct pollfd p = {.fd = fd, .events = POLLIN};
        return poll(&p, 1, (int)(WAIT_USEC / USEC_PER_MSEC)) == 1;
}

static void phase_storm(const char *dir)
{
        _cleanup_(sensors_freep) Sensors *s = NULL;
        char dir_prefix[256], b;
        const char *prefixes[1] = {dir_prefix};
        Collector c = collector_new();
        SensorsConfig cfg;
        Storm st;
        uint32_t allow;
        uint64_t drops = 0, gaps, delivered;
        usec_t deadline;
        sd_event *e = NULL;
        pid_t pid;
        int r, fd;

        snprintf(dir_prefix, sizeof(dir_prefix), "%s/", dir);
        snprintf(st.path, sizeof(st.path), "%s/storm", dir);
        snprintf(st.marker, sizeof(st.marker), "%s/storm-last", dir);
        fd = open(st.path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0 || pipe2(st.go, O_CLOEXEC) < 0 || pipe2(st.done, O_CLOEXEC) < 0 ||
            pipe2(st.last, O_CLOEXEC) < 0)
                bail("storm setup", errno);
        close(fd);
        c.seq_cap = 1u << 20;
        c.seq_seen = calloc(c.seq_cap / 8, 1);
        if (!c.seq_seen)
                bail("calloc", ENOMEM);

        /* Only the storm child is reported, so every sequence number is accounted for. */
        pid = spawn(storm_child, &st);
        allow = (uint32_t)pid;
        sensors_config_init(&cfg);
        cfg.network = cfg.kernel = false;
        cfg.file_prefixes = prefixes;
        cfg.n_file_prefixes = 1;
        cfg.ring_size = 4096;
        cfg.wakeup_bytes = SIZE_MAX; /* never woken early */
        cfg.poll_interval = 3600 * USEC_PER_SEC;
        cfg.pid_allow = &allow;
        cfg.n_pid_allow = 1;
        r = sensors_new(&s, &cfg);
        if (r >= 0)
                r = sensors_load_and_attach(s);
        if (r >= 0 && sd_event_new(&e) >= 0)
                r = sensors_attach_event(s, e, on_event, on_batch_end, &c);
        if (!tap(r >= 0, "storm sensors with a 4096-byte ring buffer attached")) {
                kill(pid, SIGKILL);
                (void)wait_child(pid);
                return;
        }

        /* The storm runs while nobody drains. */
        if (write(st.go[1], "g", 1) != 1 || !wait_readable(st.done[0]) || read(st.done[0], &b, 1) != 1)
                bail("storm child", EIO);
        r = sensors_drain(s);
        tap(r > 0 && c.total < STORM_OPENS, "after the storm the ring held %d of %d opens", r, STORM_OPENS);

        /* Now an empty ring: the last open and the exit cannot be lost, and close the sequence. */
        if (write(st.last[1], "l", 1) != 1)
                bail("storm child", EIO);
        tap(wait_child(pid) == 0, "storm child succeeded");
        deadline = now(CLOCK_MONOTONIC) + WAIT_USEC;
        while (!find_event(&c, match_type_pid_op, &(Want){.type = LG_EVENT_EXIT, .pid = pid}) &&
               now(CLOCK_MONOTONIC) < deadline) {
                (void)sensors_drain(s);
                usleep(10000);
        }
        tap(find_event(&c, match_file_path, st.marker), "the open after the storm was delivered");
        tap(find_event(&c, match_type_pid_op, &(Want){.type = LG_EVENT_EXIT, .pid = pid}),
            "the storm child's exit was delivered");

        r = sensors_read_drops(s, &drops);
        delivered = c.total;
        gaps = c.max_seq - delivered;
        tap(r >= 0 && drops > 0, "drop counter is non-zero (%" PRIu64 ")", drops);
        tap(c.seq_dups == 0 && c.max_seq >= delivered,
            "sequence numbers unique (%" PRIu64 " delivered, last %" PRIu64 ")", delivered, c.max_seq);
        tap(drops == gaps, "drops (%" PRIu64 ") equal sequence gaps (%" PRIu64 ")", drops, gaps);

        for (int i = 0; i < 2; i++) {
                close(st.go[i]);
                close(st.done[i]);
                close(st.last[i]);
        }
        sd_event_unref(e);
        collector_done(&c);
}

int main(void)
{
        char dir[] = "/tmp/lg-sensors-XXXXXX";
        char cleanup[300];

        if (geteuid() != 0)
                skip_all("needs root to load BPF programs");
        if (access("/sys/kernel/btf/vmlinux", R_OK) < 0)
                skip_all("kernel has no BTF (/sys/kernel/btf/vmlinux)");
        if (access("/sys/kernel/tracing/events", F_OK) < 0 &&
            mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) < 0)
                bail("mount tracefs", errno);
        if (getenv("LG_TEST_DEBUG"))
                log_set_max_level(LOG_DEBUG);
        if (!mkdtemp(dir))
                bail("mkdtemp", errno);
        signal(SIGPIPE, SIG_IGN);

        phase_markers(dir);
        phase_storm(dir);

        snprintf(cleanup, sizeof(cleanup), "%s/storm", dir);
        (void)unlink(cleanup);
        snprintf(cleanup, sizeof(cleanup), "%s/storm-last", dir);
        (void)unlink(cleanup);
        (void)rmdir(dir);
        printf("1..%u\n", n_tap);
        return n_failed == 0 ? 0 : 1;
}
