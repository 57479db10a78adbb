/* The open/close storm benchmark: a child process opens and closes a watched file N times, measured
 *   (a) bare, with no BPF attached;
 *   (b) under a minimal batched libbpf consumer (bare-consumer.bpf.c), the yardstick;
 *   (c) under the linuxguard agent (embedded loader, file output), its whole pipeline.
 * It prints wall times, slowdown factors, events received against expected, and linuxguard's added cost
 * per event relative to (b)'s, against the target of at most 1.5x. It reports figures and fails
 * only when it cannot measure: timing on a shared machine is not a test verdict.
 *
 * Usage: bench-storm [--linuxguard PATH] [--iterations N] [--runs R] [--dir DIR] [--relative]
 * DIR must be under a prefix the agent watches by default (/etc/). With --relative the storm opens the
 * file by its name from DIR as working directory, so the kernel side joins it to the directory (a walk
 * up the dentries) before matching. Needs root; exits 77 otherwise. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bare-consumer.skel.h"

#define MAX_RUNS 32

typedef struct Options {
        const char *linuxguard;
        const char *dir;
        unsigned long iterations;
        unsigned runs;
        bool relative;
} Options;

typedef struct Result {
        double wall_s[MAX_RUNS];
        double bpf_ns[MAX_RUNS]; /* in-kernel run time of the consumer's programs per storm iteration */
        uint64_t received[MAX_RUNS];
        double consumer_cpu_s[MAX_RUNS];
        unsigned n;
} Result;

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
        fprintf(stderr, "bench-storm: %s: %s\n", what, strerror(errno));
        exit(1);
}

static bool streq_prefix(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

static uint64_t boottime_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_BOOTTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Whether process `owner` holds a descriptor of BPF program `id` (its fdinfo says "prog_id: ID"). Other
 * linuxguard agents and tests on the machine load programs of the same names. */
static bool owns_prog(pid_t owner, uint32_t id)
{
        char dir[64], path[384], want[32], line[256];
        struct dirent *de;
        bool found = false;
        DIR *d;

        snprintf(dir, sizeof(dir), "/proc/%d/fdinfo", (int)owner);
        snprintf(want, sizeof(want), "prog_id:\t%u\n", id);
        d = opendir(dir);
        if (!d)
                return false;
        while (!found && (de = readdir(d))) {
                FILE *f;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                f = fopen(path, "re");
                if (!f)
                        continue;
                while (!found && fgets(line, sizeof(line), f))
                        found = streq_prefix(line, want);
                fclose(f);
        }
        closedir(d);
        return found;
}

/* Sum of run_time_ns of the programs whose name starts with `prefix`, that were loaded after
 * `loaded_after` (CLOCK_BOOTTIME ns) and, if `owner` > 0, that `owner` holds; counts those loaded
 * before in `ret_older`. Needs BPF stats on. */
static uint64_t bpf_runtime(const char *prefix, uint64_t loaded_after, pid_t owner, unsigned *ret_older)
{
        uint64_t sum = 0;
        unsigned older = 0;

        for (uint32_t id = 0; bpf_prog_get_next_id(id, &id) == 0;) {
                struct bpf_prog_info info = {};
                uint32_t len = sizeof(info);
                int fd = bpf_prog_get_fd_by_id(id);

                if (fd < 0)
                        continue;
                if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
                    strncmp(info.name, prefix, strlen(prefix)) == 0) {
                        if (info.load_time >= loaded_after && (owner <= 0 || owns_prog(owner, id)))
                                sum += info.run_time_ns;
                        else
                                older++;
                }
                close(fd);
        }
        if (ret_older)
                *ret_older = older;
        return sum;
}

/* ---- the storm ------------------------------------------------------------------------------------ */

/* Forks a child that waits for a byte on `go` (if >= 0), storms, and writes its wall time in ns to the
 * returned pipe. */
static pid_t storm_spawn(const char *path, unsigned long iterations, int go, int *ret_result)
{
        int p[2];
        pid_t pid;

        if (pipe(p) < 0)
                die("pipe");
        pid = fork();
        if (pid < 0)
                die("fork");
        if (pid == 0) {
                char c;
                uint64_t t0, dt;

                close(p[0]);
                if (go >= 0 && read(go, &c, 1) != 1)
                        _exit(1);
                t0 = now_ns();
                for (unsigned long i = 0; i < iterations; i++) {
                        int fd = open(path, O_RDONLY | O_CLOEXEC);

                        if (fd < 0)
                                _exit(2);
                        close(fd);
                }
                dt = now_ns() - t0;
                _exit(write(p[1], &dt, sizeof(dt)) == sizeof(dt) ? 0 : 3);
        }
        close(p[1]);
        *ret_result = p[0];
        return pid;
}

static double storm_finish(pid_t pid, int result)
{
        uint64_t dt = 0;
        int status;

        if (read(result, &dt, sizeof(dt)) != sizeof(dt))
                die("storm result");
        close(result);
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                errno = EIO;
                die("storm child");
        }
        return (double)dt / 1e9;
}

static double run_bare(const char *path, unsigned long iterations)
{
        int result;
        pid_t pid = storm_spawn(path, iterations, -1, &result);

        return storm_finish(pid, result);
}

/* ---- (b) the bare libbpf consumer ----------------------------------------------------------------- */

static int count_record(void *ctx, void *data, size_t size)
{
        (*(uint64_t *)ctx)++;
        return 0;
}

static double cpu_self_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double run_libbpf(const char *path, unsigned long iterations, uint64_t *ret_received, double *ret_cpu,
                         double *ret_bpf_ns)
{
        uint64_t loaded = boottime_ns(), rt0;
        struct bare_consumer_bpf *skel;
        struct ring_buffer *rb;
        uint64_t received = 0;
        int go[2], result, status;
        double wall, cpu0;
        pid_t pid;

        if (pipe(go) < 0)
                die("pipe");
        pid = storm_spawn(path, iterations, go[0], &result);
        close(go[0]);

        skel = bare_consumer_bpf__open();
        if (!skel)
                die("open the bare consumer");
        skel->rodata->target_tgid = (uint32_t)pid;
        skel->rodata->wakeup_bytes = bpf_map__max_entries(skel->maps.bare_events) / 16;
        if (bare_consumer_bpf__load(skel) < 0 || bare_consumer_bpf__attach(skel) < 0)
                die("load the bare consumer");
        rb = ring_buffer__new(bpf_map__fd(skel->maps.bare_events), count_record, &received, NULL);
        if (!rb)
                die("ring buffer");

        cpu0 = cpu_self_s();
        rt0 = bpf_runtime("bare_", loaded, getpid(), NULL);
        if (write(go[1], "x", 1) != 1)
                die("start the storm");
        close(go[1]);
        while (waitpid(pid, &status, WNOHANG) == 0)
                ring_buffer__poll(rb, 10);
        ring_buffer__consume(rb);
        *ret_cpu = cpu_self_s() - cpu0;
        *ret_bpf_ns = (double)(bpf_runtime("bare_", loaded, getpid(), NULL) - rt0) / (double)iterations;

        /* storm_finish() reaps; the child is gone already, so read its result directly. */
        {
                uint64_t dt = 0;

                if (read(result, &dt, sizeof(dt)) != sizeof(dt))
                        die("storm result");
                close(result);
                wall = (double)dt / 1e9;
        }
        if (skel->bss->bare_drops)
                fprintf(stderr, "bench-storm: bare consumer dropped %" PRIu64 " records\n",
                        (uint64_t)skel->bss->bare_drops);
        *ret_received = received;
        ring_buffer__free(rb);
        bare_consumer_bpf__destroy(skel);
        return wall;
}

/* ---- (c) the linuxguard agent --------------------------------------------------------------------- */

typedef struct Agent {
        pid_t pid;
        char events[512];
        char errors[512];
        int events_fd;
        char tail[16384]; /* a partial line carried between reads */
        size_t tail_len;
} Agent;

static bool file_contains(const char *path, const char *needle)
{
        char buf[65536];
        ssize_t n;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        bool found = false;

        if (fd < 0)
                return false;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n > 0) {
                buf[n] = 0;
                found = strstr(buf, needle);
        }
        close(fd);
        return found;
}

static void agent_start(Agent *a, const char *linuxguard, const char *tmpdir)
{
        char output[600];
        uint64_t deadline;

        snprintf(a->events, sizeof(a->events), "%s/events.json", tmpdir);
        snprintf(a->errors, sizeof(a->errors), "%s/agent.log", tmpdir);
        snprintf(output, sizeof(output), "file:%s", a->events);
        a->pid = fork();
        if (a->pid < 0)
                die("fork");
        if (a->pid == 0) {
                static char path_env[] = "PATH=/usr/bin:/bin";
                char *const env[] = {path_env, NULL};
                int fd = open(a->errors, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

                if (fd < 0 || dup2(fd, 2) < 0)
                        _exit(1);
                /* A private /run/linuxguard: a host agent's PID file must not stop this one. */
                (void)mkdir("/run/linuxguard", 0755);
                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount("tmpfs", "/run/linuxguard", "tmpfs", 0, "mode=0755") < 0)
                        _exit(1);
                execle(linuxguard, linuxguard, "start", "--loader-embedded=true", "--output", output,
                       "--heartbeat-interval", "3600", (char *)NULL, env);
                _exit(127);
        }
        deadline = now_ns() + 20ULL * 1000000000ULL;
        while (!file_contains(a->errors, "Sensors attached")) {
                if (now_ns() > deadline || waitpid(a->pid, NULL, WNOHANG) != 0) {
                        errno = ETIMEDOUT;
                        fprintf(stderr, "bench-storm: the agent did not attach its sensors, see %s\n",
                                a->errors);
                        die("start the agent");
                }
                usleep(20000);
        }
        a->events_fd = open(a->events, O_RDONLY | O_CLOEXEC);
        if (a->events_fd < 0)
                die("open the agent's output");
}

/* Counts the new lines in the output that mention `needle`, until `want`, 2 s without new data, or 30 s
 * (the rest of the machine keeps the output growing). */
static uint64_t agent_count(Agent *a, const char *needle, uint64_t want)
{
        static char buf[1 << 20];
        uint64_t n = 0, start = now_ns(), last_progress = start;

        while (n < want && now_ns() - last_progress < 2000000000ULL && now_ns() - start < 30000000000ULL) {
                ssize_t got;
                char *line, *end;

                memcpy(buf, a->tail, a->tail_len);
                got = read(a->events_fd, buf + a->tail_len, sizeof(buf) - 1 - a->tail_len);
                if (got < 0)
                        die("read the agent's output");
                if (got == 0) {
                        usleep(10000);
                        continue;
                }
                last_progress = now_ns();
                got += (ssize_t)a->tail_len;
                buf[got] = 0;
                for (line = buf; (end = memchr(line, '\n', (size_t)(buf + got - line))); line = end + 1) {
                        *end = 0;
                        if (strstr(line, needle))
                                n++;
                }
                a->tail_len = (size_t)(buf + got - line);
                if (a->tail_len >= sizeof(a->tail))
                        a->tail_len = 0; /* a line that long is not ours */
                memcpy(a->tail, line, a->tail_len);
        }
        return n;
}

static double agent_cpu_s(pid_t pid)
{
        char path[64], buf[1024], *p;
        unsigned long utime = 0, stime = 0;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        f = fopen(path, "re");
        if (!f || !fgets(buf, sizeof(buf), f)) {
                if (f)
                        fclose(f);
                return 0;
        }
        fclose(f);
        p = strrchr(buf, ')');
        if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
                return 0;
        return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static void agent_stop(Agent *a)
{
        kill(a->pid, SIGTERM);
        waitpid(a->pid, NULL, 0);
        close(a->events_fd);
}

/* ---- report --------------------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static double median(const double *v, unsigned n)
{
        double s[MAX_RUNS];

        memcpy(s, v, n * sizeof(double));
        qsort(s, n, sizeof(double), cmp_double);
        return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static uint64_t min_u64(const uint64_t *v, unsigned n)
{
        uint64_t m = UINT64_MAX;

        for (unsigned i = 0; i < n; i++)
                m = v[i] < m ? v[i] : m;
        return m;
}

static void report(const Options *o, const Result *bare, const Result *bpf, const Result *lg)
{
        double b = median(bare->wall_s, bare->n), w1 = median(bpf->wall_s, bpf->n);
        double w2 = lg->n ? median(lg->wall_s, lg->n) : 0;
        double add1 = (w1 - b) / (double)o->iterations * 1e9, add2 = (w2 - b) / (double)o->iterations * 1e9;

        printf("# open/close storm: %lu iterations, median of %u runs\n", o->iterations, o->runs);
        printf("%-28s %8s %9s %11s %9s %8s %13s %10s\n", "", "wall s", "slowdown", "added ns/ev",
               "bpf ns/ev", "cpu s", "events (min)", "expected");
        printf("%-28s %8.3f %8.2fx %11s %9s %8s %13s %10s\n", "(a) bare, no BPF", b, 1.0, "-", "-", "-", "-",
               "-");
        printf("%-28s %8.3f %8.2fx %11.0f %9.0f %8.3f %13" PRIu64 " %10lu\n", "(b) batched libbpf consumer",
               w1, w1 / b, add1, median(bpf->bpf_ns, bpf->n), median(bpf->consumer_cpu_s, bpf->n),
               min_u64(bpf->received, bpf->n), o->iterations);
        if (lg->n)
                printf("%-28s %8.3f %8.2fx %11.0f %9.0f %8.3f %13" PRIu64 " %10lu\n", "(c) linuxguard agent",
                       w2, w2 / b, add2, median(lg->bpf_ns, lg->n), median(lg->consumer_cpu_s, lg->n),
                       min_u64(lg->received, lg->n), o->iterations);
        if (lg->n && add1 > 0)
                printf("linuxguard added cost / batched consumer's: %.2fx by wall time, %.2fx by in-kernel "
                       "time (target <= 1.5x); loss: %s\n",
                       add2 / add1, median(lg->bpf_ns, lg->n) / median(bpf->bpf_ns, bpf->n),
                       min_u64(lg->received, lg->n) == o->iterations ? "none" : "EVENTS MISSING");
        printf("# added ns/ev: (wall - bare wall) / iterations. bpf ns/ev: the consumer's programs' run "
               "time "
               "per iteration (BPF stats).\n# cpu s: the consumer's user+system CPU time during a run (the "
               "bench process for (b), the agent for (c)).\n");
        printf("# per run, wall s (a / b / c):");
        for (unsigned i = 0; i < o->runs; i++)
                printf(" %.3f/%.3f/%.3f", bare->wall_s[i], bpf->wall_s[i], lg->n ? lg->wall_s[i] : 0.0);
        printf("\n");
}

/* ---- main ----------------------------------------------------------------------------------------- */

static void parse_options(int argc, char **argv, Options *o)
{
        static const struct option opts[] = {
                {"linuxguard", required_argument, NULL, 'l'}, {"iterations", required_argument, NULL, 'n'},
                {"runs", required_argument, NULL, 'r'},       {"dir", required_argument, NULL, 'd'},
                {"relative", no_argument, NULL, 'R'},         {},
        };
        int c;

        *o = (Options){.dir = "/etc", .iterations = 300000, .runs = 5};
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 'l':
                        o->linuxguard = optarg;
                        break;
                case 'n':
                        o->iterations = strtoul(optarg, NULL, 10);
                        break;
                case 'r':
                        o->runs = (unsigned)strtoul(optarg, NULL, 10);
                        break;
                case 'd':
                        o->dir = optarg;
                        break;
                case 'R':
                        o->relative = true;
                        break;
                default:
                        fprintf(stderr, "usage: bench-storm [--linuxguard PATH] [--iterations N] [--runs R] "
                                        "[--dir DIR] [--relative]\n");
                        exit(2);
                }
        }
        if (o->runs == 0 || o->runs > MAX_RUNS || o->iterations == 0) {
                fprintf(stderr, "bench-storm: --runs must be 1..%d and --iterations positive\n", MAX_RUNS);
                exit(2);
        }
}

int main(int argc, char **argv)
{
        Options o;
        Result bare = {}, bpf = {}, lg = {};
        unsigned foreign = 0;
        int stats_fd;
        char path[512], tmpdir[] = "/tmp/lg-bench-XXXXXX", needle[600];
        const char *storm_path;
        int fd;

        parse_options(argc, argv, &o);
        if (geteuid() != 0) {
                printf("1..0 # SKIP needs root\n");
                return 77;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
        if (stats_fd < 0)
                fprintf(stderr, "bench-storm: cannot enable BPF run-time statistics, no bpf ns figures\n");
        (void)bpf_runtime("lg_proc_exec", boottime_ns(), 0, &foreign);
        if (foreign > 0)
                printf("# warning: %u other linuxguard sensor set(s) loaded on this machine: every run, (a) "
                       "included, pays for them\n",
                       foreign);
        snprintf(path, sizeof(path), "%s/lg-bench-storm-%d", o.dir, (int)getpid());
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                die(path);
        close(fd);
        if (!mkdtemp(tmpdir))
                die("mkdtemp");
        /* The storms are forked from here and inherit the working directory. */
        storm_path = path;
        if (o.relative) {
                if (o.linuxguard && !(o.linuxguard = realpath(o.linuxguard, NULL)))
                        die("--linuxguard");
                if (chdir(o.dir) < 0)
                        die(o.dir);
                storm_path = strrchr(path, '/') + 1;
                printf("# relative opens: \"%s\" from %s\n", storm_path, o.dir);
        }

        /* (a) and (b) alternate, so drift on a shared machine hits both alike. */
        for (unsigned i = 0; i < o.runs; i++) {
                bare.wall_s[bare.n++] = run_bare(storm_path, o.iterations);
                bpf.wall_s[bpf.n] = run_libbpf(storm_path, o.iterations, &bpf.received[bpf.n],
                                               &bpf.consumer_cpu_s[bpf.n], &bpf.bpf_ns[bpf.n]);
                bpf.n++;
        }
        if (o.linuxguard) {
                Agent a = {};
                uint64_t loaded = boottime_ns();

                agent_start(&a, o.linuxguard, tmpdir);
                snprintf(needle, sizeof(needle), "\"path\":\"%s\"", path);
                for (unsigned i = 0; i < o.runs; i++) {
                        double cpu0 = agent_cpu_s(a.pid);
                        uint64_t t0, rt0 = bpf_runtime("lg_file_e", loaded, a.pid, NULL);

                        lg.wall_s[lg.n] = run_bare(storm_path, o.iterations);
                        lg.bpf_ns[lg.n] = (double)(bpf_runtime("lg_file_e", loaded, a.pid, NULL) - rt0) /
                                          (double)o.iterations;
                        t0 = now_ns();
                        lg.received[lg.n] = agent_count(&a, needle, o.iterations);
                        fprintf(stderr, "# run %u: counted %" PRIu64 " events in %.2f s after the storm\n",
                                i, lg.received[lg.n], (double)(now_ns() - t0) / 1e9);
                        lg.consumer_cpu_s[lg.n] = agent_cpu_s(a.pid) - cpu0;
                        lg.n++;
                }
                agent_stop(&a);
                unlink(a.events);
                unlink(a.errors);
        }
        report(&o, &bare, &bpf, &lg);
        if (stats_fd >= 0)
                close(stats_fd);
        unlink(path);
        rmdir(tmpdir);
        return 0;
}
