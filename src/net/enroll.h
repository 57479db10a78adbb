#pragma once
/* Enrolment: one key and CSR, POST /agent/enroll with retries on the event loop, an identity at the end. */

#include <systemd/sd-event.h>

#include "core/agent-config.h"
#include "net/tls-identity.h"
#include "util/macro.h"
#include "util/time-util.h"

typedef struct EnrollParams {
        const char *api_url; /* https://host[:port][/prefix], no trailing /agent/enroll */
        const char *ca_file; /* server trust; NULL = system store */
        const char *tenant_id;
        const char *token;       /* secret; copied into locked memory, the caller wipes its own copy */
        const char *workload_id; /* also the Idempotency-Key */
        const char *hostname;
        const char *mode; /* "host" or "ephemeral" */
        const char *agent_version;
        usec_t give_up_usec;         /* total time for all attempts; 0 = 5 min, USEC_INFINITY = never */
        usec_t backoff_initial_usec; /* 0 = 1 s */
        usec_t backoff_max_usec;     /* 0 = 60 s */
        usec_t request_timeout_usec; /* per attempt; 0 = 60 s */
} EnrollParams;

/* The parameters the configuration gives: API, CA, tenant, workload id, mode and enrol timeout from
 * `c`; `token` and `hostname` are borrowed. Both `linuxguard enroll` and the ephemeral agent use this. */
EnrollParams enroll_params_from_config(const AgentConfig *c, const char *token, const char *hostname);

/* Result of an enrolment, delivered once from the event loop:
 *   0             success: `identity` is verified (key matches, chains to caChain) and now the callee's
 *   -EINVAL       refused locally, before any request (also returned by enroll_start())
 *   -EACCES       the backend refused the credentials: HTTP 401 or 403
 *   -EPERM        the backend refused the request: HTTP 400 or another non-retryable status
 *   -EBADMSG      the backend answered 200/201 with something unusable (bad JSON, missing field,
 *                 certificate not for our key or not chaining to caChain)
 *   -ETIMEDOUT    gave up: the retries (connect errors, cut connections, 429, 5xx) used up give_up_usec
 *   -EKEYREJECTED the server's certificate is not trusted by --ca-file (or the system store)
 *   -ENOENT       the CA file cannot be loaded
 *   other -errno  local failures (-ENOMEM, ...)
 * `error_text` says what happened, for the caller to print: for -EACCES/-EPERM it is the backend's
 * "error" text verbatim. It never contains the token. Valid only during the callback. */
typedef void (*enroll_done_t)(int r, TlsIdentity *identity, const char *error_text, void *userdata);

typedef struct Enroll Enroll;

/* NULL if the parameters are complete, else the text to show; a missing tenant gives exactly
 * "tenantId required for TOTP enrollment". */
const char *enroll_params_check(const EnrollParams *p);

/* Generates the key and CSR, then starts the first attempt. -EINVAL if enroll_params_check() objects;
 * nothing is sent then. The callback may free the Enroll. */
int enroll_start(Enroll **ret, sd_event *e, const EnrollParams *p, enroll_done_t done, void *userdata);
/* Cancels a running enrolment without calling back, wipes the token and the key. NULL-safe. */
Enroll *enroll_free(Enroll *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(Enroll *, enroll_free);

/* The agentId of the answer, once it succeeded; NULL before. */
const char *enroll_get_agent_id(const Enroll *e);
/* Requests sent so far. */
unsigned enroll_get_attempts(const Enroll *e);
