#pragma once
/* The backend's state directory: atomic JSON records, append-only NDJSON logs, tenant TOTP secrets. */

#include <json-c/json.h>

#include "util/macro.h"
#include <stdbool.h>
#include <stddef.h>

#define TENANT_SECRET_SIZE 32

DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(json_object *, json_object_put);

/* json-c escapes '/' by default, which would mangle PEM; every document we emit goes through this. */
#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Tenant and workload ids become file names: [A-Za-z0-9._:-], 1..128 chars, not starting with '.'. */
bool state_name_valid(const char *s);

/* Creates the directory tree below `dir` (mode 0700). */
int state_init(const char *dir);

/* Writes `size` bytes to `path` via a temporary file and rename(); a reader never sees a partial file. */
int write_file_atomic(const char *path, const void *data, size_t size, int mode);
/* Like write_file_atomic(), but fails with -EEXIST instead of replacing an existing file. */
int write_file_exclusive(const char *path, const void *data, size_t size, int mode);
/* Reads a whole file into a NUL-terminated buffer. -ENOENT if it does not exist. */
int read_full_file(const char *path, char **ret, size_t *ret_size);
/* Appends `size` bytes with one write() on an O_APPEND descriptor. */
int append_file(const char *path, const void *data, size_t size);

int state_json_write(const char *path, json_object *obj);
/* -ENOENT if missing, -EBADMSG if not a JSON object. */
int state_json_read(const char *path, json_object **ret);

/* Loads the tenant's TOTP secret; with `create`, generates it first if absent. -ENOENT otherwise. */
int tenant_secret_load(const char *dir, const char *tenant, bool create,
                       unsigned char ret[static TENANT_SECRET_SIZE]);

/* "DIR/sub/name" (name may be NULL). */
char *state_path(const char *dir, const char *sub, const char *name);

/* Serialises concurrent CLI invocations and the server while the PKI files are created. */
int state_lock(const char *dir);
