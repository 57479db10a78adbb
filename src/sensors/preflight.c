/* The preflight is split in two so it can be tested without a kernel: preflight_gather() records what the
 * system looks like (files, a trivial bpf() load, capability sets) without judging it, and
 * preflight_evaluate() turns those facts into checks, each with the fix an operator can apply. The checks
 * are ordered from the most fundamental to the least, so the first failed one is the degraded reason. */

#include "sensors/preflight.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include <json-c/json.h>

#include "sensors/caps.h"
#include "util/json-util.h"
#include "util/macro.h"

/* ---- parsing ---------------------------------------------------------------------------------------- */

int preflight_parse_kernel_release(const char *release, unsigned *ret_major, unsigned *ret_minor)
{
        unsigned major, minor;
        int n = 0;

        if (!release || sscanf(release, "%u.%u%n", &major, &minor, &n) != 2 || n == 0)
                return -EINVAL;
        *ret_major = major;
        *ret_minor = minor;
        return 0;
}

int preflight_parse_lockdown(const char *content, char *ret, size_t size)
{
        const char *open = strchr(content, '['), *close;

        if (!open)
                return -EINVAL;
        close = strchr(open, ']');
        if (!close || close == open + 1 || (size_t)(close - open - 1) >= size)
                return -EINVAL;
        memcpy(ret, open + 1, (size_t)(close - open - 1));
        ret[close - open - 1] = 0;
        return 0;
}

int preflight_parse_perf_event_paranoid(const char *content, int *ret)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(content, &end, 10);
        if (errno != 0 || end == content || v < -1000 || v > 1000)
                return -EINVAL;
        while (*end == '\n' || *end == ' ')
                end++;
        if (*end)
                return -EINVAL;
        *ret = (int)v;
        return 0;
}

int preflight_parse_seccomp_mode(const char *status, int *ret)
{
        for (const char *line = status; line && *line;
             line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
                const char *v = startswith(line, "Seccomp:");
                if (v) {
                        *ret = atoi(v);
                        return 0;
                }
        }
        return -ENOENT;
}

/* The uname -m of the architecture this binary, and so its BPF programs, were built for. */
static const char *build_machine(void)
{
#if defined(__x86_64__)
        return "x86_64";
#elif defined(__aarch64__)
        return "aarch64";
#elif defined(__arm__)
        return "arm";
#elif defined(__riscv) && __riscv_xlen == 64
        return "riscv64";
#elif defined(__powerpc64__)
        return "ppc64";
#elif defined(__s390x__)
        return "s390x";
#elif defined(__loongarch64)
        return "loongarch64";
#else
        return NULL;
#endif
}

bool preflight_arch_supported(const char *machine)
{
        const char *built = build_machine();

        if (!built || isempty(machine))
                return false;
        if (streq(built, "arm"))
                return startswith(machine, "arm") != NULL; /* armv7l, armv8l */
        if (streq(built, "ppc64"))
                return streq(machine, "ppc64") || streq(machine, "ppc64le");
        return streq(machine, built);
}

/* ---- gathering -------------------------------------------------------------------------------------- */

static int read_small_file(const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        n = read(fd, buf, size - 1);
        if (n < 0)
                return negative_errno();
        buf[n] = 0;
        return 0;
}

/* Loads "r0 = 0; exit" as a socket filter: the cheapest program any bpf()-capable process may load. */
static int probe_bpf(void)
{
        struct bpf_insn insns[] = {
                {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
                {.code = BPF_JMP | BPF_EXIT},
        };
        union bpf_attr attr = {
                .prog_type = BPF_PROG_TYPE_SOCKET_FILTER,
                .insns = (uint64_t)(uintptr_t)insns,
                .insn_cnt = ELEMENTSOF(insns),
                .license = (uint64_t)(uintptr_t) "GPL",
        };
        int fd = (int)syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));

        if (fd < 0)
                return negative_errno();
        safe_close(fd);
        return 0;
}

static int probe_bpffs(void)
{
        struct statfs st;

        if (statfs("/sys/fs/bpf", &st) < 0)
                return negative_errno();
        if ((unsigned long)st.f_type != (unsigned long)BPF_FS_MAGIC)
                return -ENOENT;
        return RET_NERRNO(access("/sys/fs/bpf", W_OK));
}

/* Where tracefs is mounted, and whether its events directory can be read there: 0, or -errno. */
static const char *find_tracefs(int *ret_error)
{
        static const char *const paths[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
        char events[64];
        struct statfs st;

        FOREACH_ARRAY (p, paths, ELEMENTSOF(paths)) {
                if (statfs(*p, &st) < 0 || (unsigned long)st.f_type != (unsigned long)TRACEFS_MAGIC)
                        continue;
                snprintf(events, sizeof(events), "%s/events", *p);
                *ret_error = RET_NERRNO(access(events, F_OK));
                return *p;
        }
        *ret_error = -ENOENT;
        return NULL;
}

void preflight_gather(PreflightFacts *ret)
{
        PreflightFacts f = {.seccomp_mode = -1};
        struct utsname u;
        struct rlimit rl;
        char status[4096];

        if (uname(&u) >= 0) {
                snprintf(f.machine, sizeof(f.machine), "%s", u.machine);
                snprintf(f.release, sizeof(f.release), "%s", u.release);
        }
        f.btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
        f.bpf_probe = probe_bpf();
        if (read_small_file("/proc/self/status", status, sizeof(status)) >= 0)
                (void)preflight_parse_seccomp_mode(status, &f.seccomp_mode);
        f.has_caps = caps_read_state(&f.caps) >= 0;
        f.tracefs = find_tracefs(&f.tracefs_error);
        f.bpffs = probe_bpffs();
        if (getrlimit(RLIMIT_MEMLOCK, &rl) >= 0)
                f.memlock = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
        f.has_lockdown =
                read_small_file("/sys/kernel/security/lockdown", f.lockdown, sizeof(f.lockdown)) >= 0;
        f.has_perf_event_paranoid =
                read_small_file("/proc/sys/kernel/perf_event_paranoid", f.perf_event_paranoid,
                                sizeof(f.perf_event_paranoid)) >= 0;
        *ret = f;
}

/* ---- evaluation ------------------------------------------------------------------------------------- */

static PreflightCheck *add_check(PreflightReport *r, const char *name, bool required)
{
        PreflightCheck *c;

        if (r->n_checks >= ELEMENTSOF(r->checks))
                abort(); /* a programming error: PREFLIGHT_MAX_CHECKS is too small */
        c = &r->checks[r->n_checks++];
        *c = (PreflightCheck){.name = name, .required = required};
        return c;
}

_printf_(3, 4) static void set_result(PreflightCheck *c, PreflightResult result, const char *format, ...)
{
        va_list ap;

        c->result = result;
        va_start(ap, format);
        vsnprintf(c->detail, sizeof(c->detail), format, ap);
        va_end(ap);
}

_printf_(2, 3) static void set_fix(PreflightCheck *c, const char *format, ...)
{
        va_list ap;

        va_start(ap, format);
        vsnprintf(c->fix, sizeof(c->fix), format, ap);
        va_end(ap);
}

static bool cap_effective(const PreflightFacts *f, int cap)
{
        return f->has_caps && (f->caps.effective & CAP_MASK(cap));
}

static bool kernel_at_least(const PreflightFacts *f, unsigned major, unsigned minor)
{
        unsigned ma, mi;

        if (preflight_parse_kernel_release(f->release, &ma, &mi) < 0)
                return true; /* unknown: do not invent requirements */
        return ma > major || (ma == major && mi >= minor);
}

static void check_arch(const PreflightFacts *f, PreflightReport *r)
{
        PreflightCheck *c = add_check(r, "architecture", true);
        const char *built = build_machine();

        if (preflight_arch_supported(f->machine)) {
                set_result(c, PREFLIGHT_PASS, "%s", f->machine);
                return;
        }
        set_result(c, PREFLIGHT_FAIL,
                   "DegradedNoEBPFArch: no BPF programs or BTF for %s (this build targets %s)",
                   isempty(f->machine) ? "an unknown architecture" : f->machine, strna(built));
        set_fix(c,
                "install the linuxguard build for %s (vmlinux.h and the BPF objects are per architecture)",
                isempty(f->machine) ? "this architecture" : f->machine);
}

static void check_kernel(const PreflightFacts *f, PreflightReport *r)
{
        PreflightCheck *c = add_check(r, "kernel_version", true);
        unsigned major, minor;

        if (preflight_parse_kernel_release(f->release, &major, &minor) < 0) {
                set_result(c, PREFLIGHT_INFO, "cannot parse the kernel release \"%s\"", f->release);
                return;
        }
        if (kernel_at_least(f, PREFLIGHT_MIN_KERNEL_MAJOR, PREFLIGHT_MIN_KERNEL_MINOR)) {
                set_result(c, PREFLIGHT_PASS, "%s (the BPF ring buffer needs %d.%d)", f->release,
                           PREFLIGHT_MIN_KERNEL_MAJOR, PREFLIGHT_MIN_KERNEL_MINOR);
                return;
        }
        set_result(c, PREFLIGHT_FAIL, "%s is older than %d.%d, which brought the BPF ring buffer",
                   f->release, PREFLIGHT_MIN_KERNEL_MAJOR, PREFLIGHT_MIN_KERNEL_MINOR);
        set_fix(c, "boot a kernel >= %d.%d", PREFLIGHT_MIN_KERNEL_MAJOR, PREFLIGHT_MIN_KERNEL_MINOR);
}

static void check_btf(const PreflightFacts *f, PreflightReport *r)
{
        PreflightCheck *c = add_check(r, "btf", true);

        if (f->btf) {
                set_result(c, PREFLIGHT_PASS, "/sys/kernel/btf/vmlinux");
                return;
        }
        set_result(c, PREFLIGHT_FAIL,
                   "/sys/kernel/btf/vmlinux is missing: the CO-RE programs cannot be relocated");
        set_fix(c, "boot a kernel built with CONFIG_DEBUG_INFO_BTF=y");
}

static void check_lockdown(const PreflightFacts *f, PreflightReport *r)
{
        PreflightCheck *c = add_check(r, "lockdown", true);
        char mode[32];

        if (!f->has_lockdown) {
                set_result(c, PREFLIGHT_INFO,
                           "unknown: no /sys/kernel/security/lockdown (securityfs not mounted or no "
                           "lockdown LSM)");
                return;
        }
        if (preflight_parse_lockdown(f->lockdown, mode, sizeof(mode)) < 0) {
                set_result(c, PREFLIGHT_INFO, "unknown: cannot parse /sys/kernel/security/lockdown");
                return;
        }
        if (!streq(mode, "confidentiality")) {
                set_result(c, PREFLIGHT_PASS, "%s", mode);
                return;
        }
        set_result(c, PREFLIGHT_FAIL,
                   "confidentiality: the kernel refuses BPF programs that read kernel memory");
        set_fix(c, "boot with lockdown=integrity or lockdown=none (Secure Boot may impose it)");
}

static void check_bpf_syscall(const PreflightFacts *f, PreflightReport *r)
{
        PreflightCheck *c = add_check(r, "bpf_syscall", true);
        bool bpf_cap = cap_effective(f, CAP_BPF) || cap_effective(f, CAP_SYS_ADMIN);

        if (f->bpf_probe >= 0) {
                set_result(c, PREFLIGHT_PASS, "bpf() permitted");
                return;
        }
        switch (-f->bpf_probe) {
        case EPERM:
        case EACCES:
                if (bpf_cap && f->seccomp_mode == 2) {
                        set_result(c, PREFLIGHT_FAIL,
                                   "bpf() denied (%s) although CAP_BPF is effective: a seccomp filter "
                                   "blocks it",
                                   strerrorname_np(-f->bpf_probe));
                        set_fix(c, "allow bpf(2) in the seccomp profile (e.g. a container runtime's "
                                   "--security-opt seccomp=PROFILE)");
                } else if (!bpf_cap) {
                        set_result(c, PREFLIGHT_FAIL, "bpf() denied (%s): CAP_BPF is missing",
                                   strerrorname_np(-f->bpf_probe));
                        set_fix(c, "run as root or grant CAP_BPF and CAP_PERFMON");
                } else {
                        set_result(c, PREFLIGHT_FAIL, "bpf() denied (%s) although CAP_BPF is effective",
                                   strerrorname_np(-f->bpf_probe));
                        set_fix(c, "check the LSM policy (SELinux, AppArmor) and seccomp for bpf(2)");
                }
                return;
        case ENOSYS:
                set_result(c, PREFLIGHT_FAIL, "bpf() not implemented (ENOSYS)");
                set_fix(c, "boot a kernel built with CONFIG_BPF_SYSCALL=y, or allow bpf(2) in seccomp");
                return;
        default:
                set_result(c, PREFLIGHT_FAIL, "loading a trivial BPF program failed: %s",
                           strerror(-f->bpf_probe));
                set_fix(c, "see 'linuxguard start --log-level=debug' for the kernel's answer");
                return;
        }
}

static void check_capability(const PreflightFacts *f, PreflightReport *r, const char *check_name, int cap,
                             int alternative, bool required, const char *purpose)
{
        PreflightCheck *c = add_check(r, check_name, required);
        char buf[16], alt_buf[16];
        const char *name = capability_to_name(cap, buf),
                   *alt_name = capability_to_name(alternative, alt_buf);
        if (!f->has_caps) {
                set_result(c, required ? PREFLIGHT_FAIL : PREFLIGHT_INFO, "cannot read the capability sets");
                set_fix(c, "mount /proc, then run linuxguard check again");
                return;
        }
        if (cap_effective(f, cap)) {
                set_result(c, PREFLIGHT_PASS, "effective (%s)", purpose);
                return;
        }
        if (alternative >= 0 && cap_effective(f, alternative)) {
                set_result(c, PREFLIGHT_PASS, "%s effective, which covers it (%s)", alt_name, purpose);
                return;
        }
        set_result(c, required ? PREFLIGHT_FAIL : PREFLIGHT_INFO, "missing, needed to %s", purpose);
        if (!required && cap == CAP_SYS_RESOURCE && kernel_at_least(f, 5, 11))
                return; /* nothing to fix on this kernel */
        set_fix(c, "run as root, or grant %s (AmbientCapabilities=%s, docker --cap-add %s)", name, name,
                name + strlen("CAP_"));
}

static void check_perf_event_paranoid(const PreflightFacts *f, PreflightReport *r)
{
        PreflightCheck *c = add_check(r, "perf_event_paranoid", true);
        int level;

        if (!f->has_perf_event_paranoid) {
                set_result(c, PREFLIGHT_FAIL,
                           "/proc/sys/kernel/perf_event_paranoid is missing: no perf events");
                set_fix(c, "boot a kernel built with CONFIG_PERF_EVENTS=y");
                return;
        }
        if (preflight_parse_perf_event_paranoid(f->perf_event_paranoid, &level) < 0) {
                set_result(c, PREFLIGHT_INFO, "unknown: cannot parse /proc/sys/kernel/perf_event_paranoid");
                return;
        }
        if (cap_effective(f, CAP_PERFMON) || cap_effective(f, CAP_SYS_ADMIN)) {
                set_result(c, PREFLIGHT_PASS, "%d, overridden by CAP_PERFMON", level);
                return;
        }
        if (level <= -1) {
                set_result(c, PREFLIGHT_PASS, "%d, tracepoints allowed without CAP_PERFMON", level);
                return;
        }
        set_result(c, PREFLIGHT_FAIL, "%d without CAP_PERFMON: tracepoints cannot be attached", level);
        set_fix(c, "grant CAP_PERFMON, or sysctl -w kernel.perf_event_paranoid=-1");
}

static void check_tracefs(const PreflightFacts *f, PreflightReport *r)
{
        PreflightCheck *c = add_check(r, "tracefs", true);
        bool can_mount = f->tracefs_automount && cap_effective(f, CAP_SYS_ADMIN);

        if (f->tracefs && f->tracefs_error >= 0) {
                set_result(c, PREFLIGHT_PASS, "mounted at %s", f->tracefs);
                return;
        }
        if (f->tracefs) {
                set_result(c, PREFLIGHT_FAIL, "mounted at %s, but its events cannot be read (%s)",
                           f->tracefs, strerrorname_np(-f->tracefs_error) ?: "error");
                set_fix(c, "run as root, or grant CAP_DAC_READ_SEARCH");
                return;
        }
        if (can_mount) {
                set_result(c, PREFLIGHT_PASS,
                           "not mounted; 'linuxguard start' mounts it on " PREFLIGHT_TRACEFS_PATH
                           " (host mode, CAP_SYS_ADMIN)");
                return;
        }
        set_result(c, PREFLIGHT_FAIL, "not mounted: no /sys/kernel/tracing/events, tracepoint ids unknown%s",
                   f->tracefs_automount ? " (the agent would mount it, but CAP_SYS_ADMIN is missing)" : "");
        set_fix(c, "mount -t tracefs tracefs /sys/kernel/tracing");
}

static void check_memlock(const PreflightFacts *f, PreflightReport *r)
{
        /* Since 5.11 BPF memory is charged to the memory cgroup and RLIMIT_MEMLOCK is not consulted. */
        bool matters = !kernel_at_least(f, 5, 11);
        PreflightCheck *c = add_check(r, "memlock", matters);
        char limit[32];

        if (f->memlock == UINT64_MAX)
                snprintf(limit, sizeof(limit), "unlimited");
        else
                snprintf(limit, sizeof(limit), "%llu KiB", (unsigned long long)(f->memlock / 1024));
        if (!matters) {
                set_result(c, PREFLIGHT_INFO, "%s; not used since 5.11 (memory cgroup accounting)", limit);
                return;
        }
        if (f->memlock >= 64ULL * 1024 * 1024) {
                set_result(c, PREFLIGHT_PASS, "%s", limit);
                return;
        }
        if (cap_effective(f, CAP_SYS_RESOURCE)) {
                set_result(c, PREFLIGHT_PASS, "%s, raised at load with CAP_SYS_RESOURCE", limit);
                return;
        }
        set_result(c, PREFLIGHT_FAIL, "%s: too low for the BPF maps before 5.11", limit);
        set_fix(c, "LimitMEMLOCK=infinity in the unit, ulimit -l unlimited, or grant CAP_SYS_RESOURCE");
}

static void check_bpffs(const PreflightFacts *f, PreflightReport *r)
{
        /* Only the pinned loader needs it; the embedded loader runs without. */
        PreflightCheck *c = add_check(r, "bpffs", false);

        if (f->bpffs >= 0) {
                set_result(c, PREFLIGHT_PASS, "/sys/fs/bpf is a writable bpffs (for linuxguard bpf load)");
                return;
        }
        if (f->bpffs == -ENOENT) {
                set_result(c, PREFLIGHT_FAIL, "/sys/fs/bpf is not a bpffs: the pinned loader cannot pin");
                set_fix(c, "mount -t bpf bpf /sys/fs/bpf");
                return;
        }
        set_result(c, PREFLIGHT_FAIL, "/sys/fs/bpf not writable (%s): the pinned loader cannot pin",
                   strerrorname_np(-f->bpffs) ?: "error");
        set_fix(c, "run 'linuxguard bpf load' as root, or remount /sys/fs/bpf read-write");
}

void preflight_evaluate(const PreflightFacts *f, PreflightReport *ret)
{
        *ret = (PreflightReport){};
        check_arch(f, ret);
        check_kernel(f, ret);
        check_btf(f, ret);
        check_lockdown(f, ret);
        check_bpf_syscall(f, ret);
        check_capability(f, ret, "cap_bpf", CAP_BPF, CAP_SYS_ADMIN, true, "load eBPF programs");
        check_capability(f, ret, "cap_perfmon", CAP_PERFMON, CAP_SYS_ADMIN, true, "attach tracepoints");
        check_perf_event_paranoid(f, ret);
        check_tracefs(f, ret);
        check_capability(f, ret, "cap_dac_read_search", CAP_DAC_READ_SEARCH, CAP_DAC_OVERRIDE, true,
                         "read tracepoint ids in tracefs");
        check_capability(f, ret, "cap_sys_resource", CAP_SYS_RESOURCE, -1, false,
                         "raise RLIMIT_MEMLOCK before 5.11");
        check_memlock(f, ret);
        check_bpffs(f, ret);
}

void preflight_run(bool tracefs_automount, PreflightReport *ret)
{
        PreflightFacts f;

        preflight_gather(&f);
        f.tracefs_automount = tracefs_automount;
        preflight_evaluate(&f, ret);
}

int preflight_mount_tracefs(void)
{
        int error;

        if (find_tracefs(&error))
                return 0;
        if (mount("tracefs", PREFLIGHT_TRACEFS_PATH, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return negative_errno();
        return 1;
}

/* ---- reporting -------------------------------------------------------------------------------------- */

static bool check_blocks(const PreflightCheck *c)
{
        return c->required && c->result == PREFLIGHT_FAIL;
}

bool preflight_sensors_can_run(const PreflightReport *r)
{
        FOREACH_ARRAY (c, r->checks, r->n_checks)
                if (check_blocks(c))
                        return false;
        return true;
}

const char *preflight_result_to_string(PreflightResult result)
{
        switch (result) {
        case PREFLIGHT_PASS:
                return "pass";
        case PREFLIGHT_FAIL:
                return "fail";
        case PREFLIGHT_INFO:
                return "info";
        }
        return "unknown";
}

size_t preflight_degraded_reason(const PreflightReport *r, char *buf, size_t size)
{
        const PreflightCheck *first = NULL;
        size_t n = 0;

        FOREACH_ARRAY (c, r->checks, r->n_checks)
                if (check_blocks(c)) {
                        if (!first)
                                first = c;
                        n++;
                }
        if (size > 0)
                buf[0] = 0;
        if (!first)
                return 0;
        if (n == 1)
                snprintf(buf, size, "%s: %s; fix: %s", first->name, first->detail, first->fix);
        else
                snprintf(buf, size, "%s: %s; fix: %s (and %zu more failed checks, see 'linuxguard check')",
                         first->name, first->detail, first->fix, n - 1);
        return n;
}

int preflight_format_table(const PreflightReport *r, char **ret)
{
        _cleanup_fclose_ FILE *f = NULL;
        char *buf = NULL;
        size_t len = 0, n_failed = 0;
        int width = (int)strlen("CHECK");

        FOREACH_ARRAY (c, r->checks, r->n_checks) {
                if ((int)strlen(c->name) > width)
                        width = (int)strlen(c->name);
                n_failed += check_blocks(c);
        }
        f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, "%-*s  %-6s  %s\n", width, "CHECK", "RESULT", "DETAIL / FIX");
        FOREACH_ARRAY (c, r->checks, r->n_checks) {
                fprintf(f, "%-*s  %-6s  %s%s\n", width, c->name, preflight_result_to_string(c->result),
                        c->detail, c->required || c->result != PREFLIGHT_FAIL ? "" : " (optional)");
                if (c->fix[0])
                        fprintf(f, "%-*s  %-6s  fix: %s\n", width, "", "", c->fix);
        }
        if (n_failed == 0)
                fprintf(f, "\nThe eBPF sensors can run.\n");
        else
                fprintf(f,
                        "\nThe eBPF sensors cannot run (%zu required check%s failed): the agent would run "
                        "degraded, reporting exec, exit and uid changes from the process connector.\n",
                        n_failed, n_failed == 1 ? "" : "s");
        if (fflush(f) != 0 || ferror(f)) {
                fclose(TAKE_PTR(f));
                free(buf);
                return -ENOMEM;
        }
        fclose(TAKE_PTR(f));
        *ret = buf;
        return 0;
}

static json_object *check_to_json(const PreflightCheck *c)
{
        json_object *o = json_object_new_object();
        int r;

        if (!o)
                return NULL;
        r = json_add(o, "check", json_object_new_string(c->name));
        if (r >= 0)
                r = json_add(o, "result", json_object_new_string(preflight_result_to_string(c->result)));
        if (r >= 0)
                r = json_add(o, "required", json_object_new_boolean(c->required));
        if (r >= 0)
                r = json_add(o, "detail", json_object_new_string(c->detail));
        if (r >= 0 && c->fix[0])
                r = json_add(o, "fix", json_object_new_string(c->fix));
        if (r < 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

int preflight_format_json(const PreflightReport *r, char **ret)
{
        json_object *o = json_object_new_object(), *checks = json_object_new_array();
        char *s = NULL;
        int k = 0;

        if (!o || !checks) {
                json_object_put(o);
                json_object_put(checks);
                return -ENOMEM;
        }
        k = json_add(o, "sensors_can_run", json_object_new_boolean(preflight_sensors_can_run(r)));
        if (k >= 0)
                k = json_add(o, "checks", json_object_get(checks));
        FOREACH_ARRAY (c, r->checks, r->n_checks) {
                json_object *co;

                if (k < 0)
                        break;
                co = check_to_json(c);
                k = co ? json_object_array_add(checks, co) : -ENOMEM;
                if (k < 0) {
                        json_object_put(co);
                        k = -ENOMEM;
                }
        }
        if (k >= 0) {
                s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
                if (!s)
                        k = -ENOMEM;
        }
        json_object_put(checks);
        json_object_put(o);
        if (k < 0)
                return k;
        *ret = s;
        return 0;
}
