#pragma once
/* The config-file layer (libconfig syntax). Every refusal reads "FILE:LINE: what is wrong". */

#include <stdbool.h>
#include <stddef.h>

#include "core/settings.h"

/* Loads `path` into `ret` (source FILE). A missing file is an error only when `required`.
 * On failure writes the message to `error` and returns -EINVAL (bad content) or -errno (I/O). */
int config_file_load(const char *path, bool required, Settings *ret, char *error, size_t error_size);
/* The same for a config already in memory, for tests. `name` is used in messages. */
int config_file_parse_string(const char *name, const char *text, Settings *ret, char *error,
                             size_t error_size);
