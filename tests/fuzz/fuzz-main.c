/* A stand-in for libFuzzer's driver: runs LLVMFuzzerTestOneInput() once over every file named on the
 * command line (directories: every file in them), reporting TAP. Built into the normal test suite so the
 * seed corpora and every crash once found stay regression tests, with or without clang's fuzzer runtime. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "util/macro.h"

static unsigned n_run;

static int run_file(const char *path)
{
        _cleanup_free_ uint8_t *buf = NULL;
        struct stat st;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0 || fstat(fd, &st) < 0) {
                printf("not ok %u - %s: %s\n", ++n_run, path, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return -errno;
        }
        buf = malloc((size_t)st.st_size + 1);
        if (!buf || read(fd, buf, (size_t)st.st_size) != st.st_size) {
                printf("not ok %u - %s: short read\n", ++n_run, path);
                close(fd);
                return -EIO;
        }
        close(fd);
        /* A crash or a sanitizer report ends the process here: meson reports the test as failed. */
        LLVMFuzzerTestOneInput(buf, (size_t)st.st_size);
        printf("ok %u - %s\n", ++n_run, path);
        return 0;
}

static int cmp_names(const struct dirent **a, const struct dirent **b)
{
        return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
        int r = 0;

        for (int i = 1; i < argc; i++) {
                struct dirent **names = NULL;
                int n = scandir(argv[i], &names, NULL, cmp_names);

                if (n < 0) {
                        if (run_file(argv[i]) < 0)
                                r = 1;
                        continue;
                }
                for (int j = 0; j < n; j++) {
                        char path[4096];

                        if (names[j]->d_name[0] != '.') {
                                snprintf(path, sizeof(path), "%s/%s", argv[i], names[j]->d_name);
                                if (run_file(path) < 0)
                                        r = 1;
                        }
                        free(names[j]);
                }
                free(names);
        }
        printf("1..%u\n", n_run);
        return r;
}
