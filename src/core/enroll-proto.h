#pragma once
/* The enrolment protocol as bytes in, bytes out: request body, answers, status verdicts, Retry-After. */

#include <stddef.h>

#include "util/time-util.h"

/* The spec's text for a missing tenant, byte for byte. */
#define ENROLL_TENANT_REQUIRED "tenantId required for TOTP enrollment"

typedef struct EnrollRequest {
        const char *tenant_id;
        const char *token; /* secret */
        const char *workload_id;
        const char *csr; /* PEM PKCS#10 */
        const char *hostname;
        const char *mode; /* "host" or "ephemeral" */
        const char *agent_version;
} EnrollRequest;

typedef struct EnrollResponse {
        char *agent_id;
        char *certificate; /* PEM */
        char *ca_chain;    /* PEM */
        usec_t expires_at; /* CLOCK_REALTIME usec */
} EnrollResponse;

typedef enum EnrollVerdict {
        ENROLL_VERDICT_SUCCESS, /* 200, 201: parse the identity */
        ENROLL_VERDICT_RETRY,   /* 429, 5xx: back off and send the same request again */
        ENROLL_VERDICT_FATAL,   /* anything else: the backend refused, retrying cannot help */
} EnrollVerdict;

/* -EINVAL with a static text to show verbatim when a field is missing; the missing tenant is checked
 * first and reported as ENROLL_TENANT_REQUIRED. */
int enroll_request_validate(const EnrollRequest *req, const char **ret_error);
/* The JSON body. It contains the token: release it with erase_and_free(). The token is escaped by
 * hand and spliced in, so no json-c buffer (freed without wiping) ever holds it. */
int enroll_request_build(const EnrollRequest *req, char **ret_body);

/* Parses a success answer. -EBADMSG for malformed JSON, a non-object or a field of the wrong type or
 * format, -ENODATA for a missing or empty field; *ret_reason (optional) then says which, for messages. */
int enroll_response_parse(const char *body, size_t size, EnrollResponse *ret, char **ret_reason);
void enroll_response_done(EnrollResponse *r);

/* The backend's {"error":"..."} text verbatim; -EBADMSG if the body is not of that form. */
int enroll_error_parse(const char *body, size_t size, char **ret_text);
/* Text for a refused request: the "error" field verbatim if present, else the body itself if it is
 * short printable text, else "HTTP <status>". NULL on OOM. */
char *enroll_error_text(long status, const char *body, size_t size);

EnrollVerdict enroll_classify_status(long status);
/* For fatal statuses: -EACCES for 401/403 (credentials refused), -EPERM for the rest (400 and others). */
int enroll_status_to_errno(long status);
