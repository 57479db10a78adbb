#pragma once
/* read(2)/write(2) until done: short transfers and EINTR handled once, here. */

#include <stddef.h>
#include <sys/types.h>

/* Reads until `size` bytes are in or EOF; returns how many were read, or -errno. */
ssize_t loop_read(int fd, void *buf, size_t size);
/* Writes all `size` bytes; 0 or -errno. */
int loop_write(int fd, const void *buf, size_t size);
