#pragma once
/* The config-file layer (libconfig syntax). Every refusal reads "FILE:LINE: what is wrong". */

#include <stdbool.h>
#include <stddef.h>

#include "core/settings.h"

/* A config file larger than this is refused: libconfig's scanner needs time quadratic in the length of
 * one token, and a real config is a few kilobytes. */
#define CONFIG_FILE_MAX_SIZE (1024 * 1024)

/* Loads `path` into `ret` (source FILE). A missing file is an error only when `required`.
 * Refuses anything but a regular file, a file writable by group or others, one owned by neither root
 * nor the effective uid, and one over CONFIG_FILE_MAX_SIZE. On failure writes the message to `error` and
 * returns -EINVAL (bad content), -EPERM (ownership, mode), -EFBIG (size) or -errno (I/O). */
int config_file_load(const char *path, bool required, Settings *ret, char *error, size_t error_size);
/* The same for a config already in memory, for tests. `name` is used in messages. */
int config_file_parse_string(const char *name, const char *text, Settings *ret, char *error,
                             size_t error_size);
