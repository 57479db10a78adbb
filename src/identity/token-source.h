#pragma once
/* Reading the enrolment token from a secrets file (a tmpfs file of mode 0400), never logging it. */

#include <stddef.h>

/* Longest token accepted from a file, in bytes. */
#define TOKEN_FILE_MAX 4096

/* Reads the token in `path`. The file must be a regular file (not a symlink: opened O_NOFOLLOW) that
 * neither group nor others may read or write. One trailing newline is stripped; an empty token is an
 * error. On success *ret_token is a new string the caller wipes (erase_and_free). On failure, `error`
 * holds a message naming the path and the fix (never the content):
 *   -ELOOP   path is a symbolic link
 *   -EBADFD  not a regular file
 *   -EPERM   group or other permission bits are set
 *   -EFBIG   longer than TOKEN_FILE_MAX
 *   -ENODATA empty (or only a newline)
 *   -EBADMSG contains a NUL byte
 *   other    open/read failed (-ENOENT, -EACCES, ...) */
int token_source_read_file(const char *path, char **ret_token, char *error, size_t error_size);
