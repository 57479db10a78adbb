#pragma once
/* For harnesses of on-disk state: a private scratch directory, filled from the input for each run. */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fuzz_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        return remove(path);
}

/* Empties (and creates) DIR; returns it. The directory lives for the whole fuzzing process. */
static inline const char *fuzz_scratch_dir(const char *name)
{
        static char dir[256];

        if (!dir[0])
                snprintf(dir, sizeof(dir), "/tmp/linuxguard-fuzz-%s-%d", name, (int)getpid());
        (void)nftw(dir, fuzz_remove_one, 16, FTW_DEPTH | FTW_PHYS);
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                abort();
        return dir;
}

static inline void fuzz_write_file(const char *dir, const char *name, const void *content, size_t size,
                                   mode_t mode)
{
        char path[1024];
        int fd;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
                abort();
        if (write(fd, content, size) < 0)
                abort();
        close(fd);
}
