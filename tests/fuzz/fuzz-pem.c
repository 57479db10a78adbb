/* Certificate chain import: key, certificate and CA chain PEM (the input split at NUL bytes), as the
 * TLS cache, the host store and an enrolment answer hand them to the identity, then verified. */

#include "fuzz.h"
#include "net/tls-identity.h"
#include "util/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_(tls_identity_freep) TlsIdentity *id = NULL;
        char *parts[3];

        if (size > 256 * 1024 || fuzz_split(data, size, parts, 3) == 0)
                return 0;
        if (tls_identity_load(&id, parts[0], parts[1], parts[2]) >= 0)
                (void)tls_identity_verify(id, 1700000000ULL * USEC_PER_SEC);
        free(parts[0]);
        return 0;
}
