/* The pinned set: `linuxguard bpf load` pins the links (which keep the programs attached), the maps user
 * space reads, the pid and cgroup filter maps (the programs hold them anyway; pinned, they can be
 * inspected with bpftool), the record of the settings it was loaded with, and last a marker naming the
 * build that loaded them. The file prefixes are rodata, fixed at load like the filters: changed settings
 * need a new load. The set is assembled in a private
 * directory and renamed into place, so a reader sees all of it or nothing. An agent attaching to it only
 * opens maps: no load privileges, and the records queued while no agent ran are still in the ring buffer. */

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "config.h"
#include "linuxguard.skel.h"
#include "sensors/sensors-internal.h"
#include "sensors/sensors.h"
#include "util/hash-util.h"
#include "util/log.h"

#define PIN_MARKER      "version"
#define PIN_MAPS        "maps"
#define PIN_LINKS       "links"
#define PIN_MARKER_SIZE 256
#define PIN_SETTINGS    "settings"
/* bpffs holds no plain files: the record is an array map of this many bytes per entry. */
#define PIN_SETTINGS_CHUNK 4096U

DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(DIR *, closedir);

static const char *const pinned_maps[] = {
        "events", "counters", "agent_map", "pid_allow", "pid_deny", "cgroup_allow", "cgroup_deny",
};

int sensors_pin_info_self(SensorsPinInfo *ret)
{
        size_t size = 0;
        const void *elf = linuxguard_bpf__elf_bytes(&size);

        *ret = (SensorsPinInfo){};
        snprintf(ret->version, sizeof(ret->version), "%s", PACKAGE_VERSION);
        return sha256_hex(elf, size, ret->object_hash);
}

static bool pin_info_matches(const SensorsPinInfo *a, const SensorsPinInfo *b)
{
        return streq(a->version, b->version) && streq(a->object_hash, b->object_hash);
}

void sensors_pin_mismatch_message(const SensorsPinInfo *found, const char *dir, char *buf, size_t size)
{
        SensorsPinInfo self;

        (void)sensors_pin_info_self(&self);
        snprintf(buf, size,
                 "the BPF programs pinned in %s were loaded by linuxguard %s (object %.12s), this is "
                 "linuxguard %s (object %.12s); replace them with 'linuxguard bpf unload && linuxguard bpf "
                 "load'",
                 dir, found->version, found->object_hash, self.version, self.object_hash);
}

static int pin_path(char *buf, size_t size, const char *dir, const char *sub, const char *name)
{
        int n = sub ? snprintf(buf, size, "%s/%s/%s", dir, sub, name)
                    : snprintf(buf, size, "%s/%s", dir, name);

        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int marker_format(const SensorsConfig *cfg, char buf[static PIN_MARKER_SIZE])
{
        SensorsPinInfo self;
        int r;

        r = sensors_pin_info_self(&self);
        if (r < 0)
                return r;
        memset(buf, 0, PIN_MARKER_SIZE);
        snprintf(buf, PIN_MARKER_SIZE, "linuxguard %s object %s sensors %u ring %zu\n", self.version,
                 self.object_hash,
                 (cfg->process ? SENSORS_PIN_PROCESS : 0) | (cfg->file ? SENSORS_PIN_FILE : 0) |
                         (cfg->network ? SENSORS_PIN_NETWORK : 0) | (cfg->kernel ? SENSORS_PIN_KERNEL : 0),
                 cfg->ring_size);
        return 0;
}

int sensors_pin_marker_parse(const char *text, SensorsPinInfo *ret)
{
        char version[sizeof(ret->version)] = {}, hash[SHA256_HEX_SIZE] = {};
        unsigned sensors = 0;
        uint64_t ring = 0;

        if (sscanf(text, "linuxguard %31s object %64s sensors %u ring %" SCNu64, version, hash, &sensors,
                   &ring) < 2)
                return -EBADMSG;
        *ret = (SensorsPinInfo){.sensors = sensors, .ring_size = ring};
        memcpy(ret->version, version, sizeof(version));
        memcpy(ret->object_hash, hash, sizeof(hash));
        return 0;
}

int sensors_pinned_probe(const char *dir, SensorsPinInfo *ret)
{
        _cleanup_close_ int fd = -EBADF;
        char path[PATH_MAX], text[PIN_MARKER_SIZE + 1] = {};
        SensorsPinInfo self;
        uint32_t zero = 0;
        int r;

        r = pin_path(path, sizeof(path), dir, NULL, PIN_MARKER);
        if (r < 0)
                return r;
        fd = bpf_obj_get(path);
        if (fd < 0) {
                r = negative_errno();
                /* A directory without its marker is a set torn apart by hand, not "absent". */
                return r == -ENOENT && access(dir, F_OK) >= 0 ? -EBADMSG : r;
        }
        if (bpf_map_lookup_elem(fd, &zero, text) < 0)
                return negative_errno();
        r = sensors_pin_marker_parse(text, ret);
        if (r < 0)
                return r;
        r = sensors_pin_info_self(&self);
        if (r < 0)
                return r;
        return pin_info_matches(ret, &self) ? 0 : -ESTALE;
}

static int pin_marker(const SensorsConfig *cfg, const char *dir)
{
        _cleanup_close_ int fd = -EBADF;
        char path[PATH_MAX], text[PIN_MARKER_SIZE];
        uint32_t zero = 0;
        int r;

        r = marker_format(cfg, text);
        if (r >= 0)
                r = pin_path(path, sizeof(path), dir, NULL, PIN_MARKER);
        if (r < 0)
                return r;
        fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "lg_version", sizeof(zero), PIN_MARKER_SIZE, 1, NULL);
        if (fd < 0)
                return negative_errno();
        if (bpf_map_update_elem(fd, &zero, text, BPF_ANY) < 0 || bpf_obj_pin(fd, path) < 0)
                return negative_errno();
        return 0;
}

static int pin_settings(const char *record, const char *dir)
{
        _cleanup_close_ int fd = -EBADF;
        size_t len = strlen(record) + 1, n = (len + PIN_SETTINGS_CHUNK - 1) / PIN_SETTINGS_CHUNK;
        char path[PATH_MAX];
        int r;

        r = pin_path(path, sizeof(path), dir, NULL, PIN_SETTINGS);
        if (r < 0)
                return r;
        if (n > UINT32_MAX)
                return -E2BIG;
        fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "lg_settings", sizeof(uint32_t), PIN_SETTINGS_CHUNK,
                            (uint32_t)n, NULL);
        if (fd < 0)
                return negative_errno();
        for (uint32_t i = 0; i < n; i++) {
                char chunk[PIN_SETTINGS_CHUNK] = {};
                size_t off = (size_t)i * PIN_SETTINGS_CHUNK;

                memcpy(chunk, record + off, len - off < sizeof(chunk) ? len - off : sizeof(chunk));
                if (bpf_map_update_elem(fd, &i, chunk, BPF_ANY) < 0)
                        return negative_errno();
        }
        return bpf_obj_pin(fd, path) < 0 ? negative_errno() : 0;
}

int sensors_pinned_settings(const char *dir, char **ret)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *text = NULL;
        struct bpf_map_info info = {};
        uint32_t len = sizeof(info);
        char path[PATH_MAX];
        int r;

        r = pin_path(path, sizeof(path), dir, NULL, PIN_SETTINGS);
        if (r < 0)
                return r;
        fd = bpf_obj_get(path);
        if (fd < 0)
                return negative_errno();
        if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
                return negative_errno();
        if (info.type != BPF_MAP_TYPE_ARRAY || info.value_size != PIN_SETTINGS_CHUNK ||
            info.max_entries == 0)
                return -EBADMSG;
        text = calloc((size_t)info.max_entries * PIN_SETTINGS_CHUNK + 1, 1);
        if (!text)
                return -ENOMEM;
        for (uint32_t i = 0; i < info.max_entries; i++)
                if (bpf_map_lookup_elem(fd, &i, text + (size_t)i * PIN_SETTINGS_CHUNK) < 0)
                        return negative_errno();
        *ret = TAKE_PTR(text);
        return 0;
}

static int pin_programs(Sensors *s, const char *dir)
{
        struct bpf_object_skeleton *sk = s->skel->skeleton;
        char path[PATH_MAX];
        int r;

        for (int i = 0; i < sk->prog_cnt; i++) {
                struct bpf_link *link = *sk->progs[i].link;

                if (!link)
                        continue;
                r = pin_path(path, sizeof(path), dir, PIN_LINKS, bpf_program__name(*sk->progs[i].prog));
                if (r >= 0)
                        r = bpf_link__pin(link, path);
                if (r < 0)
                        return log_debug_errno(r, "Failed to pin %s: %m", path);
        }
        for (size_t i = 0; i < ELEMENTSOF(pinned_maps); i++) {
                struct bpf_map *map = bpf_object__find_map_by_name(s->skel->obj, pinned_maps[i]);

                r = map ? pin_path(path, sizeof(path), dir, PIN_MAPS, pinned_maps[i]) : -ENOENT;
                if (r >= 0)
                        r = bpf_map__pin(map, path);
                if (r < 0)
                        return log_debug_errno(r, "Failed to pin map %s: %m", pinned_maps[i]);
        }
        return 0;
}

int sensors_pin(Sensors *s, const char *dir)
{
        char staging[PATH_MAX], sub[PATH_MAX];
        int n, r;

        if (!s->skel)
                return -ENOTCONN;
        /* Beside dir, not under a dotted name: bpffs refuses dots in names. */
        n = snprintf(staging, sizeof(staging), "%s-loading-%d", dir, (int)getpid());
        if (n < 0 || (size_t)n >= sizeof(staging))
                return -ENAMETOOLONG;
        (void)sensors_unpin(staging);

        if (mkdir(staging, 0700) < 0)
                return log_debug_errno(negative_errno(), "Failed to create %s: %m", staging);
        r = pin_path(sub, sizeof(sub), staging, NULL, PIN_LINKS);
        if (r >= 0 && mkdir(sub, 0700) < 0)
                r = negative_errno();
        if (r >= 0)
                r = pin_path(sub, sizeof(sub), staging, NULL, PIN_MAPS);
        if (r >= 0 && mkdir(sub, 0700) < 0)
                r = negative_errno();
        if (r >= 0)
                r = pin_programs(s, staging);
        if (r >= 0 && s->cfg.settings_record)
                r = pin_settings(s->cfg.settings_record, staging);
        if (r >= 0)
                r = pin_marker(&s->cfg, staging);
        if (r >= 0 && rename(staging, dir) < 0)
                r = log_debug_errno(negative_errno(), "Failed to move %s to %s: %m", staging, dir);
        if (r < 0)
                (void)sensors_unpin(staging);
        return r;
}

static int unpin_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int sensors_unpin(const char *dir)
{
        if (access(dir, F_OK) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        /* Removing a link's last pin detaches its program; the maps go with the last program using them. */
        if (nftw(dir, unpin_one, 8, FTW_DEPTH | FTW_PHYS) != 0)
                return negative_errno();
        return 1;
}

static unsigned count_links(const char *dir)
{
        _cleanup_(closedirp) DIR *d = NULL;
        char path[PATH_MAX];
        unsigned n = 0;

        if (pin_path(path, sizeof(path), dir, NULL, PIN_LINKS) < 0)
                return 0;
        d = opendir(path);
        if (!d)
                return 0;
        for (struct dirent *de; (de = readdir(d));)
                if (de->d_name[0] != '.')
                        n++;
        return n;
}

static int open_pinned_map(const char *dir, const char *name, int *ret)
{
        char path[PATH_MAX];
        int r, fd;

        r = pin_path(path, sizeof(path), dir, PIN_MAPS, name);
        if (r < 0)
                return r;
        fd = bpf_obj_get(path);
        if (fd < 0)
                return log_debug_errno(negative_errno(), "Failed to open %s: %m", path);
        *ret = fd;
        return 0;
}

int sensors_open_pinned(Sensors *s, const char *dir, SensorsPinInfo *ret_info)
{
        _cleanup_close_ int events = -EBADF, counters = -EBADF, agent = -EBADF;
        SensorsPinInfo info = {};
        int r;

        if (s->skel || s->pinned)
                return -EBUSY;
        r = sensors_pinned_probe(dir, &info);
        if (ret_info)
                *ret_info = info;
        if (r < 0)
                return r;
        r = open_pinned_map(dir, "events", &events);
        if (r >= 0)
                r = open_pinned_map(dir, "counters", &counters);
        if (r >= 0)
                r = open_pinned_map(dir, "agent_map", &agent);
        if (r >= 0)
                r = sensors_agent_claim(agent, s->cfg.exclude_pid);
        if (r < 0)
                return log_debug_errno(r, "Failed to attach to the sensors pinned in %s: %m", dir);

        s->events_fd = TAKE_FD(events);
        s->counters_fd = TAKE_FD(counters);
        s->agent_fd = TAKE_FD(agent);
        s->pinned = true;
        s->programs_attached = count_links(dir);
        s->cfg.process = info.sensors & SENSORS_PIN_PROCESS;
        s->cfg.file = info.sensors & SENSORS_PIN_FILE;
        s->cfg.network = info.sensors & SENSORS_PIN_NETWORK;
        s->cfg.kernel = info.sensors & SENSORS_PIN_KERNEL;
        s->cfg.ring_size = info.ring_size;
        log_debug("Sensors attached to the set pinned in %s: %u programs, ring buffer %zu bytes.", dir,
                  s->programs_attached, s->cfg.ring_size);
        return 0;
}
