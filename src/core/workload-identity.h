#pragma once
/* Workload identity derivation (pure). The result is the enrolment Idempotency-Key. */

#include <stdbool.h>

#include "util/hash-util.h"

typedef enum IdentitySource {
        IDENTITY_EXPLICIT,     /* sha256(--workload-id) */
        IDENTITY_DOWNWARD_API, /* sha256(LINUXGUARD_NODE_NAME ":" LINUXGUARD_POD_UID) */
        IDENTITY_MACHINE,      /* host only: sha256(app-specific machine id) */
} IdentitySource;

typedef struct IdentityInputs {
        const char *workload_id; /* --workload-id */
        const char *node_name;   /* --node-id / LINUXGUARD_NODE_NAME */
        const char *pod_uid;     /* LINUXGUARD_POD_UID */
        const char *machine_id;  /* host fallback, NULL in ephemeral mode: there is no random fallback */
} IdentityInputs;

#define IDENTITY_MISSING_MESSAGE                                                                           \
        "--ephemeral requires either Downward API env vars (LINUXGUARD_NODE_NAME and LINUXGUARD_POD_UID, " \
        "set "                                                                                             \
        "via valueFrom.fieldRef) OR --workload-id CLI flag; none of the three were present."

/* Returns 0 and the lowercase hex id, or -ENOENT when no source is available. */
int workload_id_derive(const IdentityInputs *in, char ret[static SHA256_HEX_SIZE],
                       IdentitySource *ret_source);
const char *identity_source_to_string(IdentitySource s);
