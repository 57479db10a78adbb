#pragma once
/* The API's endpoints as functions from a parsed request to a status and a JSON body. No HTTP, no TLS:
 * the server has already read the body, inflated it and verified the client certificate. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "backend-pki.h"
#include "util/hash-util.h"

typedef struct Backend {
        const char *state_dir;
        const Pki *pki;
        uint64_t cert_validity; /* seconds */
        uint64_t totp_step;     /* seconds */
} Backend;

typedef struct ApiRequest {
        const char *idempotency_key; /* header, may be NULL */
        const char *agent_id;        /* CN of the verified client certificate, NULL without mTLS */
        const char *body;            /* NUL-terminated, already inflated */
        size_t body_size;
        time_t now;
} ApiRequest;

typedef struct ApiResponse {
        unsigned status;
        char *body;    /* JSON text */
        bool replayed; /* an idempotent replay of an earlier enrolment */
} ApiResponse;

void api_response_done(ApiResponse *resp);

/* Each returns 0 with `resp` filled (any status), or -errno on an internal failure (the server answers
 * 500). */
int api_enroll(const Backend *b, const ApiRequest *req, ApiResponse *resp);
int api_renew(const Backend *b, const ApiRequest *req, ApiResponse *resp);
int api_events(const Backend *b, const ApiRequest *req, ApiResponse *resp);
int api_heartbeat(const Backend *b, const ApiRequest *req, ApiResponse *resp);

/* Fills `resp` with {"error": text}. */
int api_error(ApiResponse *resp, unsigned status, const char *text);

/* The claim an Idempotency-Key is bound to: a hash over tenant, workload and mode. A different token or
 * hostname on retry still replays the same identity; a new CSR under the same claim re-issues it. */
int enroll_claim_hash(const char *tenant, const char *workload, const char *mode,
                      char ret[static SHA256_HEX_SIZE]);

/* Vets an NDJSON batch: every non-blank line must be one JSON object. Counts them and, if `out` (at least
 * `size` + 1 bytes) is given, copies them there without blank lines or CRs, each ending in '\n'. On a bad
 * line returns -EBADMSG and its 1-based number in `ret_bad_line`. */
int ndjson_filter(const char *data, size_t size, char *out, size_t *ret_out_size, size_t *ret_count,
                  size_t *ret_bad_line);
