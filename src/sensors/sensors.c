/* The embedded loader: the skeleton is opened, tuned (rodata, map sizes, which programs load), loaded and
 * attached program by program, so a tracepoint this kernel lacks (module:module_load without
 * CONFIG_MODULES, open(2) on arm64) disables one program, not the sensors.
 *
 * The kernel wakes the loop only when wakeup_bytes are pending; the io source drains then, and a timer
 * drains whatever accumulated below the threshold. Records are decoded in place and handed to the caller
 * one by one, then the batch-end callback runs once per drain so output is written in batches. The
 * pinned set (`linuxguard bpf load`) is sensors-pin.c.
 *
 * Verification is most of the start, so the programs are verified in parallel (see "parallel
 * verification" below); their links all end up in the skeleton's slots, as if it had loaded them. */

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/epoll.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "linuxguard.skel.h"
#include "sensors/container-id.h"
#include "sensors/sensors-internal.h"
#include "sensors/sensors.h"
#include "util/log.h"
#include "util/time-util.h"

const char *const SENSORS_DEFAULT_FILE_PREFIXES[] = {SETTING_DEFAULT_FILE_PREFIX_LIST};
const size_t SENSORS_N_DEFAULT_FILE_PREFIXES = ELEMENTSOF(SENSORS_DEFAULT_FILE_PREFIXES);

void sensors_config_init(SensorsConfig *cfg)
{
        *cfg = (SensorsConfig){
                .process = true,
                .file = true,
                .network = true,
                .kernel = true,
        };
}

static size_t round_ring_size(size_t size)
{
        size_t page = (size_t)sysconf(_SC_PAGESIZE), r = page;

        while (r < size && r <= SIZE_MAX / 2)
                r *= 2;
        return r;
}

static int copy_list(const void *src, size_t n, size_t elsize, void **ret)
{
        void *p;

        *ret = NULL;
        if (n == 0)
                return 0;
        if (!src)
                return -EINVAL;
        p = calloc(n, elsize);
        if (!p)
                return -ENOMEM;
        memcpy(p, src, n * elsize);
        *ret = p;
        return 0;
}

static int sensors_copy_config(Sensors *s, const SensorsConfig *cfg)
{
        const char *const *prefixes = cfg->file_prefixes ?: SENSORS_DEFAULT_FILE_PREFIXES;
        size_t n_prefixes = cfg->file_prefixes ? cfg->n_file_prefixes : SENSORS_N_DEFAULT_FILE_PREFIXES;
        void *p;
        int r;

        if (n_prefixes > LG_FILE_PREFIX_MAX)
                return -E2BIG;
        for (size_t i = 0; i < n_prefixes; i++) {
                if (!prefixes[i] || strlen(prefixes[i]) >= LG_FILE_PREFIX_LEN)
                        return -EINVAL;
                strncpy(s->file_prefixes[i], prefixes[i], LG_FILE_PREFIX_LEN - 1);
        }

        s->cfg = *cfg;
        s->cfg.file_prefixes = NULL;
        s->cfg.n_file_prefixes = n_prefixes;
        s->cfg.pid_allow = s->cfg.pid_deny = NULL;
        s->cfg.cgroup_allow = s->cfg.cgroup_deny = NULL;
        s->cfg.settings_record = NULL;
        s->cfg.ring_size = round_ring_size(cfg->ring_size ?: SENSORS_DEFAULT_RING_SIZE);
        s->cfg.wakeup_bytes = cfg->wakeup_bytes ?: s->cfg.ring_size / 16;
        s->cfg.poll_interval = cfg->poll_interval ?: SENSORS_DEFAULT_POLL_INTERVAL;
        s->cfg.exclude_pid = cfg->exclude_pid == 0 ? getpid() : cfg->exclude_pid;

        r = copy_list(cfg->pid_allow, cfg->n_pid_allow, sizeof(uint32_t), &p);
        if (r < 0)
                return r;
        s->cfg.pid_allow = p;
        r = copy_list(cfg->pid_deny, cfg->n_pid_deny, sizeof(uint32_t), &p);
        if (r < 0)
                return r;
        s->cfg.pid_deny = p;
        r = copy_list(cfg->cgroup_allow, cfg->n_cgroup_allow, sizeof(uint64_t), &p);
        if (r < 0)
                return r;
        s->cfg.cgroup_allow = p;
        r = copy_list(cfg->cgroup_deny, cfg->n_cgroup_deny, sizeof(uint64_t), &p);
        if (r < 0)
                return r;
        s->cfg.cgroup_deny = p;
        if (cfg->settings_record) {
                s->cfg.settings_record = strdup(cfg->settings_record);
                if (!s->cfg.settings_record)
                        return -ENOMEM;
        }
        return 0;
}

/* The agent map names the process the programs never report. A pinned set outlives its readers, so
 * whoever attaches replaces the entry, and gives it back on the way out. */
int sensors_agent_claim(int agent_fd, pid_t pid)
{
        struct lg_agent agent = {.tgid = pid > 0 ? (uint32_t)pid : 0};
        uint32_t zero = 0;

        return bpf_map_update_elem(agent_fd, &zero, &agent, BPF_ANY) < 0 ? negative_errno() : 0;
}

static void sensors_release_agent(Sensors *s)
{
        struct lg_agent agent = {}, none = {};
        uint32_t zero = 0;

        if (s->agent_fd < 0 || s->cfg.exclude_pid <= 0)
                return;
        if (bpf_map_lookup_elem(s->agent_fd, &zero, &agent) < 0 ||
            agent.tgid != (uint32_t)s->cfg.exclude_pid)
                return;
        (void)bpf_map_update_elem(s->agent_fd, &zero, &none, BPF_ANY);
}

int sensors_new(Sensors **ret, const SensorsConfig *cfg)
{
        _cleanup_(sensors_freep) Sensors *s = NULL;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->events_fd = s->counters_fd = s->agent_fd = -EBADF;
        r = sensors_copy_config(s, cfg);
        if (r < 0)
                return r;
        r = container_cache_new(&s->containers);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

static void *detach_link(void *link)
{
        bpf_link__destroy(link);
        return NULL;
}

/* Closing a tracepoint's perf link waits for an RCU grace period (about 55 ms here) under the kernel's
 * event mutex, so ~40 links closed one after the other hold the exit up for 2 s. Closed from one thread
 * each, the waits overlap (about 0.9 s in all) and run while the loop delivers the last events. */
void sensors_detach(Sensors *s)
{
        struct bpf_object_skeleton *sk;

        if (!s || !s->skel || s->detach_threads)
                return;
        sk = s->skel->skeleton;
        s->detach_threads = calloc(sk->prog_cnt, sizeof(*s->detach_threads));
        if (!s->detach_threads)
                return; /* linuxguard_bpf__destroy() closes them one by one */
        for (int i = 0; i < sk->prog_cnt; i++) {
                struct bpf_link *link = *sk->progs[i].link;

                if (!link)
                        continue;
                *sk->progs[i].link = NULL;
                if (pthread_create(&s->detach_threads[s->n_detach], NULL, detach_link, link) == 0)
                        s->n_detach++;
                else
                        bpf_link__destroy(link);
        }
}

/* The programs' links live in the skeleton's slots; the verifiers' objects are no longer needed. */
static void sensors_close_verifiers(Sensors *s)
{
        for (size_t i = 0; i < s->n_verifiers; i++)
                linuxguard_bpf__destroy(s->verifiers[i]);
        s->n_verifiers = 0;
}

Sensors *sensors_free(Sensors *s)
{
        if (!s)
                return NULL;
        sd_event_source_disable_unref(s->ring_source);
        sd_event_source_disable_unref(s->timer_source);
        ring_buffer__free(s->rb);
        if (s->pinned) {
                sensors_release_agent(s);
                safe_close(s->events_fd);
                safe_close(s->counters_fd);
                safe_close(s->agent_fd);
        }
        sensors_detach(s);
        for (size_t i = 0; i < s->n_detach; i++)
                (void)pthread_join(s->detach_threads[i], NULL);
        free(s->detach_threads);
        linuxguard_bpf__destroy(s->skel);
        sensors_close_verifiers(s);
        container_cache_free(s->containers);
        free((void *)s->cfg.pid_allow);
        free((void *)s->cfg.pid_deny);
        free((void *)s->cfg.cgroup_allow);
        free((void *)s->cfg.cgroup_deny);
        free((void *)s->cfg.settings_record);
        return mfree(s);
}

/* ---- loading ---------------------------------------------------------------------------------------- */

static int libbpf_log(enum libbpf_print_level level, const char *format, va_list ap)
{
        char line[512];
        size_t n;

        if (log_get_max_level() < LOG_DEBUG)
                return 0;
        vsnprintf(line, sizeof(line), format, ap);
        n = strlen(line);
        if (n > 0 && line[n - 1] == '\n')
                line[n - 1] = 0;
        log_debug("libbpf: %s", line);
        return 0;
}

static bool program_enabled(const SensorsConfig *cfg, const char *name)
{
        if (startswith(name, "lg_proc_"))
                return cfg->process;
        if (startswith(name, "lg_file_"))
                return cfg->file;
        if (startswith(name, "lg_net_"))
                return cfg->network;
        if (startswith(name, "lg_kern_"))
                return cfg->kernel;
        return false;
}

static int set_filter_map_size(struct bpf_map *map, size_t n)
{
        return bpf_map__set_max_entries(map, n > 0 ? (uint32_t)n : 1);
}

static int sensors_tune(Sensors *s)
{
        struct linuxguard_bpf *skel = s->skel;
        const SensorsConfig *cfg = &s->cfg;
        struct bpf_program *prog;
        int r;

        skel->rodata->wakeup_bytes = cfg->wakeup_bytes;
        skel->rodata->pid_allow_active = cfg->n_pid_allow > 0;
        skel->rodata->pid_deny_active = cfg->n_pid_deny > 0;
        skel->rodata->cgroup_allow_active = cfg->n_cgroup_allow > 0;
        skel->rodata->cgroup_deny_active = cfg->n_cgroup_deny > 0;
        skel->rodata->file_prefix_count = (uint32_t)cfg->n_file_prefixes;
        for (size_t i = 0; i < LG_FILE_PREFIX_MAX; i++)
                for (size_t j = 0; j < LG_FILE_PREFIX_LEN; j++)
                        skel->rodata->file_prefixes[i][j] = s->file_prefixes[i][j];

        r = bpf_map__set_max_entries(skel->maps.events, (uint32_t)cfg->ring_size);
        if (r >= 0)
                r = set_filter_map_size(skel->maps.pid_allow, cfg->n_pid_allow);
        if (r >= 0)
                r = set_filter_map_size(skel->maps.pid_deny, cfg->n_pid_deny);
        if (r >= 0)
                r = set_filter_map_size(skel->maps.cgroup_allow, cfg->n_cgroup_allow);
        if (r >= 0)
                r = set_filter_map_size(skel->maps.cgroup_deny, cfg->n_cgroup_deny);
        if (r < 0)
                return r;

        bpf_object__for_each_program(prog, skel->obj)
        {
                r = bpf_program__set_autoload(prog, program_enabled(cfg, bpf_program__name(prog)));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int fill_filter_map(struct bpf_map *map, const void *keys, size_t n, size_t keysize)
{
        const uint8_t one = 1;

        for (size_t i = 0; i < n; i++) {
                int r = bpf_map__update_elem(map, (const uint8_t *)keys + i * keysize, keysize, &one,
                                             sizeof(one), BPF_ANY);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int sensors_fill_filters(Sensors *s)
{
        const SensorsConfig *cfg = &s->cfg;
        int r;

        r = fill_filter_map(s->skel->maps.pid_allow, cfg->pid_allow, cfg->n_pid_allow, sizeof(uint32_t));
        if (r >= 0)
                r = fill_filter_map(s->skel->maps.pid_deny, cfg->pid_deny, cfg->n_pid_deny,
                                    sizeof(uint32_t));
        if (r >= 0)
                r = fill_filter_map(s->skel->maps.cgroup_allow, cfg->cgroup_allow, cfg->n_cgroup_allow,
                                    sizeof(uint64_t));
        if (r >= 0)
                r = fill_filter_map(s->skel->maps.cgroup_deny, cfg->cgroup_deny, cfg->n_cgroup_deny,
                                    sizeof(uint64_t));
        return r;
}

/* ---- parallel verification -------------------------------------------------------------------------- */

/* The kernel verifies a program in its BPF_PROG_LOAD, and libbpf loads an object's programs one after the
 * other: with ~40 programs that is most of the start (0.9 s, three rename programs 0.75 s of it, on a
 * 2-CPU test VM). The kernel verifies different programs in parallel, so the enabled programs are split
 * into groups balanced by instruction count, one per CPU, and each group is loaded from another open of
 * the same object on the maps the skeleton created (bpf_map__reuse_fd()): one ring buffer, one frozen
 * .rodata with the tunables, one set of filter maps. */

typedef struct VerifyJob {
        struct bpf_object *obj;
        pthread_t thread;
        bool started;
        int error;
} VerifyJob;

static size_t verifier_count(const struct bpf_object_skeleton *sk)
{
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        size_t n = cpus > 1 ? (size_t)cpus : 1, enabled = 0;

        for (int i = 0; i < sk->prog_cnt; i++)
                enabled += bpf_program__autoload(*sk->progs[i].prog);
        if (n > SENSORS_MAX_VERIFIERS)
                n = SENSORS_MAX_VERIFIERS;
        return n < enabled ? n : enabled;
}

/* Longest first, each to the lightest group. group[i] is -1 for a program that is off. */
static void plan_groups(const struct bpf_object_skeleton *sk, size_t n_groups, int *group)
{
        size_t weight[SENSORS_MAX_VERIFIERS] = {};

        for (int i = 0; i < sk->prog_cnt; i++)
                group[i] = bpf_program__autoload(*sk->progs[i].prog) ? -2 : -1; /* -2: to place */
        for (;;) {
                int longest = -1;
                size_t lightest = 0;

                for (int i = 0; i < sk->prog_cnt; i++)
                        if (group[i] == -2 &&
                            (longest < 0 || bpf_program__insn_cnt(*sk->progs[i].prog) >
                                                    bpf_program__insn_cnt(*sk->progs[longest].prog)))
                                longest = i;
                if (longest < 0)
                        return;
                for (size_t g = 1; g < n_groups; g++)
                        if (weight[g] < weight[lightest])
                                lightest = g;
                group[longest] = (int)lightest;
                weight[lightest] += bpf_program__insn_cnt(*sk->progs[longest].prog);
        }
}

static int share_maps(struct bpf_object *from, struct bpf_object *to)
{
        struct bpf_map *map;

        bpf_object__for_each_map(map, to)
        {
                struct bpf_map *own = bpf_object__find_map_by_name(from, bpf_map__name(map));
                int r;

                if (!own)
                        return -ENOENT;
                r = bpf_map__reuse_fd(map, bpf_map__fd(own));
                if (r < 0)
                        return r;
        }
        return 0;
}

static void *verify_job_run(void *userdata)
{
        VerifyJob *j = userdata;

        j->error = bpf_object__load(j->obj);
        return NULL;
}

/* One more open of the object, on the skeleton's maps, loading the programs of group `g`. */
static int open_verifier(Sensors *s, const int *group, int g, VerifyJob *ret)
{
        struct linuxguard_bpf *v;
        int r;

        v = linuxguard_bpf__open();
        if (!v)
                return negative_errno();
        s->verifiers[s->n_verifiers++] = v;
        r = share_maps(s->skel->obj, v->obj);
        for (int i = 0; r >= 0 && i < v->skeleton->prog_cnt; i++)
                r = bpf_program__set_autoload(*v->skeleton->progs[i].prog, group[i] == g);
        if (r < 0)
                return r;
        *ret = (VerifyJob){.obj = v->obj};
        return 0;
}

static int sensors_load_parallel(Sensors *s, size_t n_groups)
{
        struct bpf_object_skeleton *sk = s->skel->skeleton;
        VerifyJob jobs[SENSORS_MAX_VERIFIERS] = {};
        _cleanup_free_ int *group = NULL;
        int r = 0;

        group = calloc((size_t)sk->prog_cnt, sizeof(int));
        if (!group)
                return -ENOMEM;
        plan_groups(sk, n_groups, group);
        for (int i = 0; r >= 0 && i < sk->prog_cnt; i++)
                r = bpf_program__set_autoload(*sk->progs[i].prog, false);
        if (r >= 0)
                r = linuxguard_bpf__load(s->skel); /* the maps, filled and frozen: no program */
        for (size_t g = 0; r >= 0 && g < n_groups; g++)
                r = open_verifier(s, group, (int)g, &jobs[g]);
        if (r < 0)
                return r;
        for (size_t g = 0; g < n_groups; g++)
                jobs[g].started = pthread_create(&jobs[g].thread, NULL, verify_job_run, &jobs[g]) == 0;
        for (size_t g = 0; g < n_groups; g++) {
                if (jobs[g].started)
                        (void)pthread_join(jobs[g].thread, NULL);
                else
                        verify_job_run(&jobs[g]); /* no thread: in this one */
                if (r >= 0 && jobs[g].error < 0)
                        r = jobs[g].error;
        }
        return r;
}

static int sensors_load_programs(Sensors *s)
{
        size_t n = verifier_count(s->skel->skeleton);

        if (n <= 1) {
                log_info("Loading the eBPF sensors (the kernel verifies each program)...");
                return linuxguard_bpf__load(s->skel);
        }
        /* Still the slowest step of the start: say what the wait is for. */
        log_info("Loading the eBPF sensors (the kernel verifies each program, %zu at a time)...", n);
        return sensors_load_parallel(s, n);
}

/* Program i as loaded: the skeleton's own, or a verifier's. NULL when it is off. */
static struct bpf_program *loaded_program(Sensors *s, int i)
{
        struct bpf_program *prog = *s->skel->skeleton->progs[i].prog;

        if (bpf_program__autoload(prog))
                return prog;
        for (size_t v = 0; v < s->n_verifiers; v++) {
                prog = *s->verifiers[v]->skeleton->progs[i].prog;
                if (bpf_program__autoload(prog))
                        return prog;
        }
        return NULL;
}

/* Attaches through the skeleton's link slots, so linuxguard_bpf__destroy() detaches them. */
static int sensors_attach_programs(Sensors *s)
{
        struct bpf_object_skeleton *sk = s->skel->skeleton;

        for (int i = 0; i < sk->prog_cnt; i++) {
                struct bpf_program *prog = loaded_program(s, i);
                struct bpf_link *link;

                if (!prog)
                        continue;
                link = bpf_program__attach(prog);
                if (!link) {
                        int r = negative_errno();

                        if (r != -ENOENT)
                                return log_debug_errno(r, "Failed to attach %s: %m",
                                                       bpf_program__name(prog));
                        log_debug("Tracepoint for %s not available, skipping.", bpf_program__name(prog));
                        s->programs_unavailable++;
                        continue;
                }
                *sk->progs[i].link = link;
                s->programs_attached++;
        }
        return 0;
}

int sensors_load_and_attach(Sensors *s)
{
        usec_t start = now(CLOCK_MONOTONIC), loaded;
        int r;

        if (s->skel || s->pinned)
                return -EBUSY;
        libbpf_set_print(libbpf_log);

        s->skel = linuxguard_bpf__open();
        if (!s->skel)
                return log_debug_errno(negative_errno(), "Failed to open the BPF skeleton: %m");
        r = sensors_tune(s);
        if (r < 0)
                return log_debug_errno(r, "Failed to configure the BPF programs: %m");
        r = sensors_load_programs(s);
        if (r < 0)
                return log_debug_errno(r, "Failed to load the BPF programs: %m");
        loaded = now(CLOCK_MONOTONIC);
        r = sensors_fill_filters(s);
        if (r < 0)
                return log_debug_errno(r, "Failed to fill the pid and cgroup filters: %m");
        s->events_fd = bpf_map__fd(s->skel->maps.events);
        s->counters_fd = bpf_map__fd(s->skel->maps.counters);
        s->agent_fd = bpf_map__fd(s->skel->maps.agent_map);
        r = sensors_agent_claim(s->agent_fd, s->cfg.exclude_pid);
        if (r < 0)
                return log_debug_errno(r, "Failed to exclude this process from the sensors: %m");
        r = sensors_attach_programs(s);
        sensors_close_verifiers(s);
        if (r < 0)
                return r;
        log_debug("Sensors attached: %u programs, %u unavailable, ring buffer %zu bytes, wake-up at %zu; "
                  "opened and verified in %llu ms, attached in %llu ms.",
                  s->programs_attached, s->programs_unavailable, s->cfg.ring_size, s->cfg.wakeup_bytes,
                  (unsigned long long)((loaded - start) / USEC_PER_MSEC),
                  (unsigned long long)((now(CLOCK_MONOTONIC) - loaded) / USEC_PER_MSEC));
        return 0;
}

/* ---- the event loop --------------------------------------------------------------------------------- */

static int on_sample(void *ctx, void *data, size_t size)
{
        Sensors *s = ctx;
        LgEvent ev;
        int r;

        if (event_decode(data, size, &ev) < 0) {
                s->decode_errors++;
                return 0;
        }
        ev.container_id = container_cache_lookup(s->containers, ev.hdr.cgroup_id);
        if (ev.hdr.seq > s->last_seq)
                s->last_seq = ev.hdr.seq;
        s->events++;
        r = s->handler(&ev, s->userdata);
        if (r < 0)
                log_debug_errno(r, "Event handler failed, ignoring: %m");
        return 0;
}

static int sensors_finish_batch(Sensors *s, uint64_t before)
{
        if (s->events != before && s->batch_end)
                s->batch_end(s->userdata);
        return (int)(s->events - before);
}

int sensors_drain(Sensors *s)
{
        uint64_t before = s->events;
        int r;

        if (!s->rb)
                return -ENOTCONN;
        r = ring_buffer__consume(s->rb);
        if (r < 0)
                return log_debug_errno(r, "Failed to drain the ring buffer: %m");
        return sensors_finish_batch(s, before);
}

static int on_ring_ready(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        Sensors *s = userdata;
        uint64_t before = s->events;
        int r;

        /* poll, not consume: epoll_wait on libbpf's own epoll fd also clears its readiness. */
        r = ring_buffer__poll(s->rb, 0);
        if (r < 0 && r != -EINTR)
                log_debug_errno(r, "Failed to drain the ring buffer, ignoring: %m");
        sensors_finish_batch(s, before);
        return 0;
}

static int on_poll_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
        Sensors *s = userdata;
        int r;

        (void)sensors_drain(s);
        r = sd_event_source_set_time_relative(source, s->cfg.poll_interval);
        if (r < 0)
                return log_debug_errno(r, "Failed to re-arm the sensors timer: %m");
        return sd_event_source_set_enabled(source, SD_EVENT_ON);
}

int sensors_attach_event(Sensors *s, sd_event *e, SensorsHandler handler, SensorsBatchEnd batch_end,
                         void *userdata)
{
        int r;

        if (s->events_fd < 0 || !handler)
                return -EINVAL;
        if (s->rb)
                return -EBUSY;
        s->handler = handler;
        s->batch_end = batch_end;
        s->userdata = userdata;

        s->rb = ring_buffer__new(s->events_fd, on_sample, s, NULL);
        if (!s->rb)
                return log_debug_errno(negative_errno(), "Failed to set up the ring buffer: %m");

        r = sd_event_add_io(e, &s->ring_source, ring_buffer__epoll_fd(s->rb), EPOLLIN, on_ring_ready, s);
        if (r < 0)
                return log_debug_errno(r, "Failed to watch the ring buffer: %m");
        (void)sd_event_source_set_description(s->ring_source, "sensors-ring");

        r = sd_event_add_time_relative(e, &s->timer_source, CLOCK_MONOTONIC, s->cfg.poll_interval,
                                       s->cfg.poll_interval / 10, on_poll_timer, s);
        if (r < 0)
                return log_debug_errno(r, "Failed to add the sensors timer: %m");
        (void)sd_event_source_set_description(s->timer_source, "sensors-poll");
        return 0;
}

/* ---- counters --------------------------------------------------------------------------------------- */

static int read_counter(Sensors *s, uint32_t idx, uint64_t *ret)
{
        int ncpus = libbpf_num_possible_cpus();
        _cleanup_free_ uint64_t *values = NULL;
        uint64_t sum = 0;
        int r;

        if (s->counters_fd < 0)
                return -ENOTCONN;
        if (ncpus <= 0)
                return ncpus < 0 ? ncpus : -EIO;
        values = calloc((size_t)ncpus, sizeof(uint64_t));
        if (!values)
                return -ENOMEM;
        r = bpf_map_lookup_elem(s->counters_fd, &idx, values);
        if (r < 0)
                return r;
        for (int i = 0; i < ncpus; i++)
                sum += values[i];
        *ret = sum;
        return 0;
}

int sensors_read_drops(Sensors *s, uint64_t *ret)
{
        return read_counter(s, LG_COUNTER_RING_FULL, ret);
}

int sensors_load_id(Sensors *s, uint32_t *ret)
{
        struct bpf_map_info info = {};
        uint32_t len = sizeof(info);
        int r;

        if (s->events_fd < 0)
                return -EBADF;
        r = bpf_obj_get_info_by_fd(s->events_fd, &info, &len);
        if (r < 0)
                return r;
        *ret = info.id;
        return 0;
}

int sensors_read_stats(Sensors *s, SensorsStats *ret)
{
        SensorsStats st = {
                .decode_errors = s->decode_errors,
                .events = s->events,
                .last_seq = s->last_seq,
                .programs_attached = s->programs_attached,
                .programs_unavailable = s->programs_unavailable,
        };
        int r;

        r = read_counter(s, LG_COUNTER_RING_FULL, &st.ring_drops);
        if (r >= 0)
                r = read_counter(s, LG_COUNTER_PENDING_FULL, &st.pending_overflows);
        if (r < 0)
                return r;
        *ret = st;
        return 0;
}

int64_t sensors_boot_to_realtime_ns(void)
{
        struct timespec boot, real;

        clock_gettime(CLOCK_BOOTTIME, &boot);
        clock_gettime(CLOCK_REALTIME, &real);
        return ((int64_t)real.tv_sec - boot.tv_sec) * 1000000000LL + (real.tv_nsec - boot.tv_nsec);
}
