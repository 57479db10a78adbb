/* Workload identity derivation, in the spec's order: explicit id, then the Downward API pair, then (host
 * mode only) the machine. Values are hashed, never used verbatim, so any input gives a stable id. */

#include "core/workload-identity.h"

#include <errno.h>

#include "util/macro.h"

int workload_id_derive(const IdentityInputs *in, char ret[static SHA256_HEX_SIZE],
                       IdentitySource *ret_source)
{
        int r;

        if (!isempty(in->workload_id)) {
                r = sha256_hex(in->workload_id, strlen(in->workload_id), ret);
                *ret_source = IDENTITY_EXPLICIT;
                return r;
        }

        /* Both halves or neither: one alone falls through. */
        if (!isempty(in->node_name) && !isempty(in->pod_uid)) {
                const char *parts[] = {in->node_name, ":", in->pod_uid};
                r = sha256_hex_parts(parts, ELEMENTSOF(parts), ret);
                *ret_source = IDENTITY_DOWNWARD_API;
                return r;
        }

        if (!isempty(in->machine_id)) {
                r = sha256_hex(in->machine_id, strlen(in->machine_id), ret);
                *ret_source = IDENTITY_MACHINE;
                return r;
        }

        return -ENOENT;
}

const char *identity_source_to_string(IdentitySource s)
{
        switch (s) {
        case IDENTITY_EXPLICIT:
                return "--workload-id";
        case IDENTITY_DOWNWARD_API:
                return "LINUXGUARD_NODE_NAME:LINUXGUARD_POD_UID";
        case IDENTITY_MACHINE:
                return "machine id";
        }
        return NULL;
}
