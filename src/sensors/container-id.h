#pragma once
/* Container ids from cgroup paths: pure parsing, and a cache from cgroup id to container id. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONTAINER_ID_LEN 64

/* Finds the innermost path component naming a container (docker-, cri-containerd-, crio-, libpod- scopes
 * with systemd's cgroup driver, or a bare 64-hex-digit directory with cgroupfs). Returns 1 and the
 * lowercase id, 0 when the path names none. conmon scopes are not containers. */
int container_id_from_cgroup_path(const char *path, char ret[static CONTAINER_ID_LEN + 1]);

typedef struct ContainerCache ContainerCache;

int container_cache_new(ContainerCache **ret);
ContainerCache *container_cache_free(ContainerCache *c);
/* The container id of a cgroup v2 id, NULL if it is not in a container or cannot be resolved. The string
 * lives in the cache until the slot is reused; copy it to keep it. */
const char *container_cache_lookup(ContainerCache *c, uint64_t cgroup_id);
