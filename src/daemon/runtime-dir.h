#pragma once
/* The runtime directory (/run/linuxguard) and who the agent trusts to own what is in it. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The package's system user (units/linuxguard.sysusers), which the unit runs the agent as. */
#define AGENT_SYSTEM_USER "linuxguard"

/* Whether `uid` may own the agent's runtime files or serve its control API: root, this process's euid,
 * or the package's system user. Anyone else could be an impostor. */
bool agent_uid_trusted(uid_t uid);

/* Creates `path` (0755) if missing and checks it without following a symlink: a symlink, a non-directory,
 * an owner agent_uid_trusted() refuses, or a directory others may write to that we cannot fix is refused
 * with -ELOOP, -ENOTDIR or -EPERM and `reason` naming the fix. A group- or world-writable directory that
 * we own is chmod'ed to 0755 (Kubernetes creates emptyDir volumes 0777). -ENOENT or -EROFS when it is
 * missing and cannot be created (a read-only root): the caller decides whether it needs it. */
int runtime_dir_prepare(const char *path, char *reason, size_t reason_size);
