/* The host store in the state directory (normally /var/lib/linuxguard): agent.key, agent.crt, ca.crt and
 * enrolment.json from the input split at NUL bytes, as a crash or an operator's edit could leave them. */

#include "fuzz-files.h"
#include "fuzz.h"
#include "identity/host-store.h"
#include "util/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_(tls_identity_freep) TlsIdentity *id = NULL;
        const char *dir = fuzz_scratch_dir("host-store");
        HostEnrolment e = {};
        char *parts[4];

        if (size > 256 * 1024 || fuzz_split(data, size, parts, 4) == 0)
                return 0;
        fuzz_write_file(dir, HOST_STORE_KEY_FILE, parts[0], strlen(parts[0]), 0600);
        fuzz_write_file(dir, HOST_STORE_CERT_FILE, parts[1], strlen(parts[1]), 0644);
        fuzz_write_file(dir, HOST_STORE_CA_FILE, parts[2], strlen(parts[2]), 0644);
        fuzz_write_file(dir, HOST_STORE_ENROLMENT_FILE, parts[3], strlen(parts[3]), 0600);
        if (host_store_load(dir, &id, &e) >= 0)
                host_enrolment_done(&e);
        free(parts[0]);
        return 0;
}
