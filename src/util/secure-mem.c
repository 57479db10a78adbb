/* Secrets get their own anonymous mapping instead of malloc() memory: mlock() and MADV_DONTDUMP work
 * on whole pages, so sharing a page with ordinary heap data would either lock and hide unrelated data
 * or, on munlock(), unlock a neighbour's secret. A small header in front of the data remembers the
 * mapping size so secure_free() can wipe and unmap it all. */

#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "util/log.h"
#include "util/macro.h"
#include "util/secure-mem.h"

typedef struct SecureHeader {
        size_t map_size;
        size_t size;
} SecureHeader;

static SecureHeader *secure_header(const char *p)
{
        return (SecureHeader *)(uintptr_t)(p - sizeof(SecureHeader));
}

char *secure_strndup(const void *data, size_t size)
{
        size_t page = (size_t)sysconf(_SC_PAGESIZE), need, map_size;
        SecureHeader *h;
        char *p;

        if (__builtin_add_overflow(size, sizeof(SecureHeader) + 1, &need) || need > SIZE_MAX - page) {
                errno = ENOMEM;
                return NULL;
        }
        map_size = (need + page - 1) / page * page;

        h = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (h == MAP_FAILED)
                return NULL;

        if (mlock(h, map_size) < 0)
                log_debug_errno(errno, "Failed to lock secret buffer in memory, ignoring: %m");
        if (madvise(h, map_size, MADV_DONTDUMP) < 0)
                log_debug_errno(errno, "Failed to exclude secret buffer from core dumps, ignoring: %m");
        /* A child forked for a helper must not inherit the secret. */
        (void)madvise(h, map_size, MADV_WIPEONFORK);

        *h = (SecureHeader){.map_size = map_size, .size = size};
        p = (char *)(h + 1);
        if (size > 0)
                memcpy(p, data, size);
        p[size] = '\0';
        return p;
}

char *secure_free(char *p)
{
        SecureHeader *h;
        size_t map_size;

        if (!p)
                return NULL;

        h = secure_header(p);
        map_size = h->map_size;
        explicit_bzero(h, map_size);
        (void)munlock(h, map_size);
        (void)munmap(h, map_size);
        return NULL;
}

size_t secure_size(const char *p)
{
        return p ? secure_header(p)->size : 0;
}

int secure_mem_protect_process(void)
{
        /* The secure buffers are left out of a core dump, but a copy a library made (a TLS record, an
         * HTTP request buffer) is not; and a process of our uid could read any of it via /proc/PID/mem. */
        return RET_NERRNO(prctl(PR_SET_DUMPABLE, 0UL, 0UL, 0UL, 0UL));
}
