/* A record carries only the cgroup id; the path is found by opening the cgroup directory by handle (kernfs
 * file handles are the cgroup id) and reading the fd's link. Ids are never reused within a boot, so a
 * direct-mapped cache, negative results included, is enough and never goes stale. */

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "sensors/container-id.h"
#include "util/macro.h"

#define CACHE_SLOTS     512 /* power of two */
#define FILEID_KERNFS   0xfe
#define CGROUP_PATH_MAX 4096

static bool is_hex64(const char *s, size_t n)
{
        if (n != CONTAINER_ID_LEN)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

/* One component: "[prefix]<64 hex>[.scope]". */
static bool component_container_id(const char *c, size_t n, char ret[static CONTAINER_ID_LEN + 1])
{
        static const char *const prefixes[] = {"docker-", "cri-containerd-", "crio-", "libpod-", ""};
        static const char scope[] = ".scope";

        if (n >= sizeof(scope) - 1 && memcmp(c + n - (sizeof(scope) - 1), scope, sizeof(scope) - 1) == 0)
                n -= sizeof(scope) - 1;
        FOREACH_ARRAY (p, prefixes, ELEMENTSOF(prefixes)) {
                size_t l = strlen(*p);

                if (n < l || memcmp(c, *p, l) != 0 || !is_hex64(c + l, n - l))
                        continue;
                memcpy(ret, c + l, CONTAINER_ID_LEN);
                ret[CONTAINER_ID_LEN] = 0;
                return true;
        }
        return false;
}

int container_id_from_cgroup_path(const char *path, char ret[static CONTAINER_ID_LEN + 1])
{
        int found = 0;

        for (const char *p = path; *p;) {
                size_t n = strcspn(p, "/");

                if (n > 0 && component_container_id(p, n, ret))
                        found = 1; /* keep going: the innermost wins */
                p += n;
                p += strspn(p, "/");
        }
        return found;
}

typedef struct CacheSlot {
        uint64_t cgroup_id; /* 0: empty */
        bool in_container;
        char id[CONTAINER_ID_LEN + 1];
} CacheSlot;

struct ContainerCache {
        int mount_fd; /* the cgroup2 mount, -EBADF until first needed, -1 after a failure to find it */
        CacheSlot slots[CACHE_SLOTS];
};

int container_cache_new(ContainerCache **ret)
{
        ContainerCache *c = calloc(1, sizeof(*c));

        if (!c)
                return -ENOMEM;
        c->mount_fd = -EBADF;
        *ret = c;
        return 0;
}

ContainerCache *container_cache_free(ContainerCache *c)
{
        if (!c)
                return NULL;
        safe_close(c->mount_fd);
        return mfree(c);
}

static int open_cgroup2_mount(void)
{
        static const char *const candidates[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};

        FOREACH_ARRAY (p, candidates, ELEMENTSOF(candidates)) {
                struct statfs sfs;
                int fd = open(*p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                if (fd < 0)
                        continue;
                if (fstatfs(fd, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
                        return fd;
                safe_close(fd);
        }
        return -ENOENT;
}

static int cgroup_path_by_id(ContainerCache *c, uint64_t cgroup_id, char *buf, size_t size)
{
        struct {
                struct file_handle fh;
                uint64_t id;
        } handle = {.fh = {.handle_bytes = sizeof(uint64_t), .handle_type = FILEID_KERNFS}};
        _cleanup_close_ int fd = -EBADF;
        char proc[64];
        ssize_t n;

        if (c->mount_fd == -EBADF) {
                int mfd = open_cgroup2_mount();
                c->mount_fd = mfd < 0 ? -1 : mfd;
        }
        if (c->mount_fd < 0)
                return -ENOENT;
        memcpy(handle.fh.f_handle, &cgroup_id, sizeof(cgroup_id));
        fd = open_by_handle_at(c->mount_fd, &handle.fh, O_RDONLY | O_CLOEXEC | O_PATH);
        if (fd < 0)
                return negative_errno();
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        n = readlink(proc, buf, size - 1);
        if (n < 0)
                return negative_errno();
        buf[n] = 0;
        return 0;
}

const char *container_cache_lookup(ContainerCache *c, uint64_t cgroup_id)
{
        CacheSlot *slot = &c->slots[((cgroup_id * 0x9e3779b97f4a7c15ULL) >> 55) & (CACHE_SLOTS - 1)];
        char path[CGROUP_PATH_MAX];

        if (cgroup_id == 0)
                return NULL;
        if (slot->cgroup_id != cgroup_id) {
                slot->cgroup_id = cgroup_id;
                slot->in_container = cgroup_path_by_id(c, cgroup_id, path, sizeof(path)) >= 0 &&
                                     container_id_from_cgroup_path(path, slot->id) > 0;
        }
        return slot->in_container ? slot->id : NULL;
}
