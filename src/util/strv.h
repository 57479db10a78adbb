#pragma once
/* NULL-terminated arrays of strings, and "KEY=value" environment blocks. */

#include "util/macro.h"

/* Frees every string and the array; NULL-safe. Returns NULL. */
char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);

/* The value of `name` in `envp` ("KEY=value" strings, NULL-terminated; NULL is empty), or NULL. */
const char *strv_env_get(const char *const *envp, const char *name);
