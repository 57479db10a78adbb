/* `linuxguard bpf load|unload|status`.
 *
 * The pinned loader for hosts: a privileged one-shot loads the programs with the sensor settings of the
 * agent's config file (mapped as for the embedded loader, filters included) and pins them in bpffs with
 * a record of those settings, where they stay attached whether or not an agent runs; the agent
 * (loader_embedded=false) only opens the pinned ring buffer and counters. A set pinned by another
 * build is never reused or silently replaced: its record layout or maps may differ, so it is refused with
 * the command that replaces it. */

#include "cmd/commands.h"

#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/statfs.h>

#include "config.h"
#include "core/agent-config.h"
#include "core/cli.h"
#include "core/exit-status.h"
#include "sensors/sensors-settings.h"
#include "sensors/sensors.h"
#include "util/log.h"

#define BPFFS_DIR "/sys/fs/bpf"

typedef struct BpfArgs {
        const char *verb;
        const char *config;
        const char *log_level;
        bool help;
} BpfArgs;

static void bpf_help(void)
{
        printf("Usage: linuxguard bpf load|unload|status [OPTIONS]\n\n"
               "The pinned eBPF loader for hosts. 'load' loads and attaches the sensors and pins them in\n"
               "%s, where they stay attached across agent restarts; an agent started with\n"
               "--loader-embedded=false reads them without load privileges and misses no event. 'unload'\n"
               "detaches and removes them (nothing pinned is not an error). 'status' tells whether a set\n"
               "from this build is pinned and the settings it was loaded with. The sensors.* keys of the\n"
               "config file (sensors, file prefixes, pid and cgroup filters) choose what 'load' loads.\n\n"
               "Options:\n"
               "  --config=PATH       Config file (default %s)\n"
               "  --log-level=LEVEL   error, warning, notice, info or debug\n"
               "  -h, --help          Show this help\n\n"
               "Exit status: 0 done, 1 failure or a set pinned by another build, 2 usage.\n",
               SENSORS_PIN_DIR, DEFAULT_CONFIG_FILE);
}

enum { BPF_CONFIG, BPF_LOG_LEVEL, BPF_HELP };

static int bpf_option(int id, const char *arg, void *userdata, char *error, size_t error_size)
{
        BpfArgs *a = userdata;

        switch (id) {
        case BPF_CONFIG:
                a->config = arg;
                return 0;
        case BPF_LOG_LEVEL:
                if (log_level_from_string(arg) < 0) {
                        snprintf(error, error_size, "--log-level: invalid value \"%s\"", arg);
                        return -EINVAL;
                }
                a->log_level = arg;
                return 0;
        default:
                a->help = true;
                return 0;
        }
}

static int bpf_args_parse(int argc, char **argv, BpfArgs *ret)
{
        static const CliOption options[] = {
                {"config", 0, required_argument, BPF_CONFIG},
                {"log-level", 0, required_argument, BPF_LOG_LEVEL},
                {"help", 'h', no_argument, BPF_HELP},
        };
        static const CliCommand cmd = {
                .options = options,
                .n_options = ELEMENTSOF(options),
                .positional = true,
                .missing_hint = "",
                .unknown_hint = " (see 'linuxguard bpf --help')",
                .on_option = bpf_option,
        };
        _cleanup_(settings_done) Settings none = {};
        char error[512];
        int r, first;

        r = cli_parse(&cmd, argc, argv, &none, ret, &first, error, sizeof(error));
        if (r < 0)
                return log_error_errno(r, "%s", error);
        if (ret->help)
                return 0;
        if (first != argc - 1)
                return log_error_errno(-EINVAL, "expected one of load, unload, status (see 'linuxguard bpf "
                                                "--help')");
        ret->verb = argv[first];
        return 0;
}

/* The sensor settings a host's `start` would use: config file over defaults. */
static int load_sensors_config(const char *path, SensorsSettings *ret)
{
        _cleanup_(agent_config_done) AgentConfig config = {};
        const Settings *file = &config.settings;
        char error[1024] = "";
        int r;

        r = agent_config_load(&(const AgentConfigRequest){.mode = MODE_CHOICE_HOST, .config_file = path},
                              &config, error, sizeof(error));
        if (r < 0 && *error)
                return log_error_errno(r, "%s", error);
        if (r < 0)
                return log_error_errno(r, "Failed to resolve the sensor settings: %m");

        r = sensors_config_from_settings(file, ret, error, sizeof(error));
        if (r < 0)
                return log_error_errno(r, "%s", error);
        ret->cfg.exclude_pid = -1; /* the agent that attaches excludes itself */
        return 0;
}

static int ensure_bpffs(void)
{
        struct statfs st;

        if (statfs(BPFFS_DIR, &st) >= 0 && (unsigned long)st.f_type == BPF_FS_MAGIC)
                return 0;
        if (mount("bpf", BPFFS_DIR, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0)
                return log_error_errno(negative_errno(),
                                       "No bpffs on %s and mounting one failed: %m. Mount it with 'mount -t "
                                       "bpf bpf %s' (or the sys-fs-bpf.mount unit) and retry.",
                                       BPFFS_DIR, BPFFS_DIR);
        log_info("Mounted bpffs on %s.", BPFFS_DIR);
        return 0;
}

/* 0: nothing pinned; 1: this build's set is pinned; negative: refused (logged). */
static int check_pinned(void)
{
        SensorsPinInfo found = {};
        char msg[512];
        int r;

        r = sensors_pinned_probe(SENSORS_PIN_DIR, &found);
        if (r == -ENOENT)
                return 0;
        if (r >= 0)
                return 1;
        if (r == -ESTALE) {
                sensors_pin_mismatch_message(&found, SENSORS_PIN_DIR, msg, sizeof(msg));
                return log_error_errno(r, "Refusing: %s.", msg);
        }
        if (r == -EBADMSG)
                return log_error_errno(r,
                                       "%s exists but holds no valid linuxguard marker; replace it with "
                                       "'linuxguard bpf unload && linuxguard bpf load'.",
                                       SENSORS_PIN_DIR);
        return log_error_errno(r, "Failed to read the pinned set in %s: %m", SENSORS_PIN_DIR);
}

static int bpf_load(const BpfArgs *args)
{
        _cleanup_(sensors_settings_done) SensorsSettings settings = {};
        _cleanup_(sensors_freep) Sensors *s = NULL;
        SensorsStats st = {};
        int r;

        r = ensure_bpffs();
        if (r < 0)
                return r;
        r = check_pinned();
        if (r < 0)
                return r;
        if (r > 0) {
                log_info("Already loaded by this build in %s; to apply changed settings run 'linuxguard bpf "
                         "unload && linuxguard bpf load'.",
                         SENSORS_PIN_DIR);
                return 0;
        }

        r = load_sensors_config(args->config, &settings);
        if (r < 0)
                return r;
        r = sensors_new(&s, &settings.cfg);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the sensors: %m");
        r = sensors_load_and_attach(s);
        if (r < 0)
                return log_error_errno(r,
                                       "Failed to load the eBPF programs: %m (run as root; 'linuxguard bpf "
                                       "load --log-level=debug' shows the failing step)");
        r = sensors_pin(s, SENSORS_PIN_DIR);
        if (r < 0)
                return log_error_errno(r, "Failed to pin the eBPF programs in %s: %m", SENSORS_PIN_DIR);
        (void)sensors_read_stats(s, &st);
        log_info("Loaded %u eBPF programs (%u tracepoints unavailable) and pinned them in %s.",
                 st.programs_attached, st.programs_unavailable, SENSORS_PIN_DIR);
        return 0;
}

/* Leftovers of a `load` that was killed while assembling its set. */
static void remove_staging_dirs(void)
{
        glob_t g = {};

        if (glob(SENSORS_PIN_DIR "-loading-*", GLOB_NOSORT, NULL, &g) == 0)
                for (size_t i = 0; i < g.gl_pathc; i++)
                        (void)sensors_unpin(g.gl_pathv[i]);
        globfree(&g);
}

static int bpf_unload(void)
{
        int r;

        remove_staging_dirs();
        r = sensors_unpin(SENSORS_PIN_DIR);
        if (r < 0)
                return log_error_errno(r, "Failed to remove %s: %m", SENSORS_PIN_DIR);
        if (r == 0)
                log_info("Nothing pinned in %s.", SENSORS_PIN_DIR);
        else
                log_info("Detached the eBPF programs and removed %s.", SENSORS_PIN_DIR);
        return 0;
}

static int bpf_status(void)
{
        _cleanup_free_ char *settings = NULL;
        SensorsPinInfo found = {};
        int r;

        r = check_pinned();
        if (r < 0)
                return r;
        if (r == 0) {
                printf("No pinned set in %s.\n", SENSORS_PIN_DIR);
                return -ENOENT;
        }
        (void)sensors_pinned_probe(SENSORS_PIN_DIR, &found);
        printf("Pinned in %s by linuxguard %s (object %.12s), sensors:%s%s%s%s, ring buffer %" PRIu64
               " bytes.\n",
               SENSORS_PIN_DIR, found.version, found.object_hash,
               found.sensors & SENSORS_PIN_PROCESS ? " process" : "",
               found.sensors & SENSORS_PIN_FILE ? " file" : "",
               found.sensors & SENSORS_PIN_NETWORK ? " network" : "",
               found.sensors & SENSORS_PIN_KERNEL ? " kernel" : "", found.ring_size);
        r = sensors_pinned_settings(SENSORS_PIN_DIR, &settings);
        if (r < 0)
                return log_error_errno(r,
                                       "Failed to read the settings the set in %s was loaded with: %m; "
                                       "replace it with 'linuxguard bpf unload && linuxguard bpf load'.",
                                       SENSORS_PIN_DIR);
        printf("Loaded with:\n");
        for (char *line = settings, *next; line && *line; line = next) {
                next = strchrnul(line, '\n');
                printf("  %.*s\n", (int)(next - line), line);
                if (*next)
                        next++;
        }
        return 0;
}

int run_bpf(int argc, char **argv)
{
        BpfArgs args = {};
        int r;

        log_set_target(LOG_TARGET_STDERR);
        r = bpf_args_parse(argc, argv, &args);
        if (r < 0)
                return EXIT_USAGE;
        if (args.help)
                return bpf_help(), EXIT_OK;
        if (args.log_level)
                log_set_max_level(log_level_from_string(args.log_level));

        if (streq(args.verb, "load"))
                r = bpf_load(&args);
        else if (streq(args.verb, "unload"))
                r = bpf_unload();
        else if (streq(args.verb, "status"))
                r = bpf_status();
        else {
                log_error("Unknown 'bpf' command '%s' (accepts load, unload, status).", args.verb);
                return EXIT_USAGE;
        }
        return r < 0 ? EXIT_RUNTIME : EXIT_OK;
}
