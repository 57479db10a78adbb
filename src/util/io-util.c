#include "util/io-util.h"

#include <errno.h>
#include <unistd.h>

ssize_t loop_read(int fd, void *buf, size_t size)
{
        char *p = buf;
        size_t n = 0;

        while (n < size) {
                ssize_t k = read(fd, p + n, size - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                n += (size_t)k;
        }
        return (ssize_t)n;
}

int loop_write(int fd, const void *buf, size_t size)
{
        const char *p = buf;

        while (size > 0) {
                ssize_t k = write(fd, p, size);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                p += k;
                size -= (size_t)k;
        }
        return 0;
}
