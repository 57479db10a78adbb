#pragma once
/* Page-backed buffers for secrets: locked in RAM, left out of core dumps, wiped before release. */

#include <stddef.h>

#include "util/macro.h"

/* Copies `size` bytes of `data` into a fresh secure buffer and NUL-terminates it. NULL on failure
 * (errno set). Failing to lock the pages (RLIMIT_MEMLOCK) is not fatal: the buffer is still
 * excluded from core dumps and wiped on release. */
char *secure_strndup(const void *data, size_t size);
/* Wipes and unmaps a buffer from secure_strndup(). Accepts NULL, returns NULL. */
char *secure_free(char *p);
/* The number of bytes stored, without the terminating NUL. */
size_t secure_size(const char *p);

/* Makes this process non-dumpable: no core dump, and /proc/PID/{mem,environ,...} and ptrace only for
 * root, even for our own uid. Called once a command is about to hold a token or a private key; an
 * execve() of another program restores the default. */
int secure_mem_protect_process(void);

static inline void secure_freep(char **p)
{
        *p = secure_free(*p);
}
#define _cleanup_secure_ _cleanup_(secure_freep)
