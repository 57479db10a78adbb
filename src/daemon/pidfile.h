#pragma once
/* The host-mode PID file: an exclusive flock held for the life of the process, the PID written under it. */

#include <sys/types.h>

#include "util/macro.h"

#define PIDFILE_PATH "/run/linuxguard/linuxguard.pid"

typedef struct PidFile PidFile;

/* Locks `path` (creating it, and its parent directory 0755, if needed), then truncates it and writes our
 * PID. Never waits for the lock.
 *   0        we own it; a stale file left by a dead process has been taken over
 *   -EBUSY   another live process holds it; *ret_holder (optional) is its PID, 0 if it did not write it
 *            within 200 ms
 *   -EPERM   the file exists and is owned by a user other than root, us or the package's user
 *   -EBADFD  the path is not a regular file
 *   -errno   the file or its directory cannot be created, locked or written
 * Of any number of racing callers exactly one gets 0. */
int pidfile_acquire(const char *path, PidFile **ret, pid_t *ret_holder);
/* Unlinks the file (only while it is still ours) and drops the lock. Accepts NULL, returns NULL. */
PidFile *pidfile_release(PidFile *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(PidFile *, pidfile_release);

/* Reads the PID stored in `path` without locking: 0 and *ret > 0, or -ENOENT/-ENODATA/-EBADMSG/-errno. */
int pidfile_read(const char *path, pid_t *ret);
