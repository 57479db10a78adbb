/* The open/close storm benchmark: a child process opens and closes a watched file N times, measured
 *   (a) bare, with no BPF attached;
 *   (b) under a minimal batched libbpf consumer (bare-consumer.bpf.c), the yardstick;
 *   (c) under the linuxguard agent (embedded loader, file output), its whole pipeline.
 * It prints wall times, slowdown factors, events received against expected, and linuxguard's added cost
 * per event relative to (b)'s, against the target of at most 1.5x. It reports figures and fails
 * only when it cannot measure: timing on a shared machine is not a test verdict.
 *
 * Usage: bench-storm [--linuxguard PATH] [--iterations N] [--runs R] [--dir DIR]
 * DIR must be under a prefix the agent watches by default (/etc/). Needs root; exits 77 otherwise. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "bare-consumer.skel.h"

#define MAX_RUNS 32

typedef struct Options {
        const char *linuxguard;
        const char *dir;
        unsigned long iterations;
        unsigned runs;
} Options;

typedef struct Result {
        double wall_s[MAX_RUNS];
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

static double run_libbpf(const char *path, unsigned long iterations, uint64_t *ret_received, double *ret_cpu)
{
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
        if (write(go[1], "x", 1) != 1)
                die("start the storm");
        close(go[1]);
        while (waitpid(pid, &status, WNOHANG) == 0)
                ring_buffer__poll(rb, 10);
        ring_buffer__consume(rb);
        *ret_cpu = cpu_self_s() - cpu0;

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
        char tail[512]; /* a partial line carried between reads */
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

/* Counts the new lines in the output that mention `needle`, until `want` or 2 s without progress. */
static uint64_t agent_count(Agent *a, const char *needle, uint64_t want)
{
        static char buf[1 << 20];
        uint64_t n = 0, last_progress = now_ns();

        while (n < want && now_ns() - last_progress < 2000000000ULL) {
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
        printf("%-28s %9s %9s %11s %9s %14s %12s\n", "", "wall s", "slowdown", "added ns/ev", "cpu s",
               "events (min)", "expected");
        printf("%-28s %9.3f %9.2fx %11s %9s %14s %12s\n", "(a) bare, no BPF", b, 1.0, "-", "-", "-", "-");
        printf("%-28s %9.3f %9.2fx %11.0f %9.3f %14" PRIu64 " %12lu\n", "(b) batched libbpf consumer", w1,
               w1 / b, add1, median(bpf->consumer_cpu_s, bpf->n), min_u64(bpf->received, bpf->n),
               o->iterations);
        if (lg->n)
                printf("%-28s %9.3f %9.2fx %11.0f %9.3f %14" PRIu64 " %12lu\n",
                       "(c) linuxguard agent", w2, w2 / b, add2, median(lg->consumer_cpu_s, lg->n),
                       min_u64(lg->received, lg->n), o->iterations);
        if (lg->n && add1 > 0)
                printf("linuxguard added cost / batched consumer's: %.2fx (target <= 1.5x: %s); "
                       "loss: %s\n",
                       add2 / add1, add2 / add1 <= 1.5 ? "within" : "over",
                       min_u64(lg->received, lg->n) == o->iterations ? "none" : "EVENTS MISSING");
        printf("# cpu s: the consumer's CPU time during a run (the bench process for (b), the agent for "
               "(c))\n");
        printf("# per run, wall s (a / b / c):");
        for (unsigned i = 0; i < o->runs; i++)
                printf(" %.3f/%.3f/%.3f", bare->wall_s[i], bpf->wall_s[i], lg->n ? lg->wall_s[i] : 0.0);
        printf("\n");
}

/* ---- main ----------------------------------------------------------------------------------------- */

static void parse_options(int argc, char **argv, Options *o)
{
        static const struct option opts[] = {
                {"linuxguard", required_argument, NULL, 'l'},
                {"iterations", required_argument, NULL, 'n'},
                {"runs", required_argument, NULL, 'r'},
                {"dir", required_argument, NULL, 'd'},
                {},
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
                default:
                        fprintf(stderr, "usage: bench-storm [--linuxguard PATH] [--iterations N] [--runs R] "
                                        "[--dir DIR]\n");
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
        char path[512], tmpdir[] = "/tmp/lg-bench-XXXXXX", needle[600];
        int fd;

        parse_options(argc, argv, &o);
        if (geteuid() != 0) {
                printf("1..0 # SKIP needs root\n");
                return 77;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        snprintf(path, sizeof(path), "%s/lg-bench-storm-%d", o.dir, (int)getpid());
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                die(path);
        close(fd);
        if (!mkdtemp(tmpdir))
                die("mkdtemp");

        /* (a) and (b) alternate, so drift on a shared machine hits both alike. */
        for (unsigned i = 0; i < o.runs; i++) {
                bare.wall_s[bare.n++] = run_bare(path, o.iterations);
                bpf.wall_s[bpf.n] = run_libbpf(path, o.iterations, &bpf.received[bpf.n],
                                               &bpf.consumer_cpu_s[bpf.n]);
                bpf.n++;
        }
        if (o.linuxguard) {
                Agent a = {};

                agent_start(&a, o.linuxguard, tmpdir);
                snprintf(needle, sizeof(needle), "\"path\":\"%s\"", path);
                for (unsigned i = 0; i < o.runs; i++) {
                        double cpu0 = agent_cpu_s(a.pid);

                        lg.wall_s[lg.n] = run_bare(path, o.iterations);
                        lg.received[lg.n] = agent_count(&a, needle, o.iterations);
                        lg.consumer_cpu_s[lg.n] = agent_cpu_s(a.pid) - cpu0;
                        lg.n++;
                }
                agent_stop(&a);
                unlink(a.events);
                unlink(a.errors);
        }
        report(&o, &bare, &bpf, &lg);
        unlink(path);
        rmdir(tmpdir);
        return 0;
}
