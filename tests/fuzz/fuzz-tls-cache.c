/* The TLS cache as a previous run (or a crash, or another process of the same uid) left it: .tag,
 * agent.key, agent.crt and ca.crt from the input split at NUL bytes. The expected tag is FUZZ_TAG, which
 * the seeds store, so the PEM parsing and verification are reached. Property: no crash; a load either
 * succeeds or says why (reason set). */

#include <stdio.h>

#include "fuzz-files.h"
#include "fuzz.h"
#include "identity/tls-cache.h"
#include "util/macro.h"

#define FUZZ_TAG "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_(tls_identity_freep) TlsIdentity *id = NULL;
        const char *root = fuzz_scratch_dir("tls-cache");
        char tls[512], reason[512] = "", *parts[4];
        int r;

        if (size > 256 * 1024 || fuzz_split(data, size, parts, 4) == 0)
                return 0;
        snprintf(tls, sizeof(tls), "%s/" TLS_CACHE_DIR, root);
        if (mkdir(tls, 0700) < 0)
                abort();
        fuzz_write_file(tls, TLS_CACHE_TAG, parts[0], strlen(parts[0]), 0600);
        fuzz_write_file(tls, TLS_CACHE_KEY, parts[1], strlen(parts[1]), 0600);
        fuzz_write_file(tls, TLS_CACHE_CERT, parts[2], strlen(parts[2]), 0600);
        fuzz_write_file(tls, TLS_CACHE_CA, parts[3], strlen(parts[3]), 0600);
        r = tls_cache_load(root, FUZZ_TAG, 1700000000ULL * USEC_PER_SEC, &id, reason, sizeof(reason));
        if (r <= 0 && !reason[0]) {
                fprintf(stderr, "tls_cache_load() = %d without a reason\n", r);
                abort();
        }
        free(parts[0]);
        return 0;
}
