#pragma once
/* The optional --tls-cache: the issued certificate chain mirrored to ROOT/tls/ on a memory filesystem,
 * tagged with hex(sha256(token ":" workload id)) so a rotated token or a new workload drops it. */

#include <stddef.h>

#include "net/tls-identity.h"
#include "util/hash-util.h"
#include "util/time-util.h"

#define TLS_CACHE_DIR      "tls"
#define TLS_CACHE_CERT     "agent.crt"
#define TLS_CACHE_KEY      "agent.key"
#define TLS_CACHE_CA       "ca.crt"
#define TLS_CACHE_TAG      ".tag"
#define TLS_CACHE_TAG_SIZE SHA256_HEX_SIZE

#define TLS_CACHE_NEEDS_TOKEN_MESSAGE                                                               \
        "--tls-cache requires LINUXGUARD_ENROLL_TOKEN (or pre-computed EnrollTokenTag) to be set; " \
        "refusing "                                                                                 \
        "to seed a cache that cannot be cryptographically invalidated."

/* 0 if `root` (normally RUNTIME_DIR) is on tmpfs or ramfs. Otherwise -EMEDIUMTYPE (or the statfs()
 * error) with a message in `error` naming the filesystem and the docker/podman and Kubernetes fixes. */
int tls_cache_check_memory_fs(const char *root, char *error, size_t error_size);

/* ret = lowercase hex(sha256(token ":" workload_id)). -EINVAL if either is empty. */
int tls_cache_tag(const char *token, const char *workload_id, char ret[static TLS_CACHE_TAG_SIZE]);

/* Loads ROOT/tls/ if its .tag equals `tag` and the chain is usable at `now` (CLOCK_REALTIME usec):
 *   1   *ret is the cached identity
 *   0   no cache, or a stale/unusable one, which was deleted; `reason` says which
 *  <0   refused (not owned by our euid, group/other bits, a symlink, not a directory or regular file)
 *       or an I/O error; `reason` says what and nothing was deleted. */
int tls_cache_load(const char *root, const char *tag, usec_t now, TlsIdentity **ret, char *reason,
                   size_t reason_size);

/* Writes the identity's key, certificate and CA chain, then .tag, crash-safely: the old .tag is removed
 * first and the new one renamed in last, so a kill at any point leaves no tag (a cache that load
 * deletes) or a complete cache. Creates ROOT/tls (0700) if needed; files are 0600. */
int tls_cache_store(const char *root, const char *tag, const TlsIdentity *id);

/* Deletes ROOT/tls and everything in it; 0 if it did not exist. */
int tls_cache_remove(const char *root);
