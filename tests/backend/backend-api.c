/* Endpoint logic of the reference backend.
 *
 * Enrolment checks in the order an operator would want to read the failures: the request shape (tenant,
 * workload id, Idempotency-Key), then the token (so an unauthenticated caller learns nothing about existing
 * identities), then the idempotency record, and only then the CSR. An idempotency record maps
 * sha256(Idempotency-Key) to the claim (tenant, workload, mode), the CSR's hash and the agent id. The same
 * claim with the same CSR is a retry and answers from the stored identity, so a retried POST never mints a
 * second certificate; the same claim with a new CSR is the same workload restarted with a fresh key (the
 * spec's restart semantics: "fresh enrol with the token"), so the existing identity gets a certificate for
 * the new key; a different claim under the same key is refused. The server serialises calls to these
 * functions, so the read-then-write sequences here need no locking of their own. */

#include "backend-api.h"

#include <gnutls/crypto.h>

#include "backend-state.h"
#include "totp.h"

void api_response_done(ApiResponse *resp)
{
        resp->body = mfree(resp->body);
}

static int api_json(ApiResponse *resp, unsigned status, json_object *obj)
{
        const char *s = json_object_to_json_string_ext(obj, JSON_FLAGS);

        if (!s)
                return -ENOMEM;
        free(resp->body);
        resp->body = strdup(s);
        if (!resp->body)
                return -ENOMEM;
        resp->status = status;
        return 0;
}

int api_error(ApiResponse *resp, unsigned status, const char *text)
{
        _cleanup_(json_object_putp) json_object *obj = json_object_new_object();

        if (!obj || json_object_object_add(obj, "error", json_object_new_string(text)) < 0)
                return -ENOMEM;
        return api_json(resp, status, obj);
}

static const char *json_get_string(json_object *obj, const char *key)
{
        json_object *v;

        if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static int add_string(json_object *obj, const char *key, const char *value)
{
        json_object *v = json_object_new_string(strempty(value));

        if (!v)
                return -ENOMEM;
        return json_object_object_add(obj, key, v) < 0 ? -ENOMEM : 0;
}

/* Parses a request body that must be one JSON object. NULL on any syntax error or other type. */
static json_object *parse_object(const char *text, size_t size)
{
        json_tokener *tok = json_tokener_new();
        json_object *obj;

        if (!tok)
                return NULL;
        obj = json_tokener_parse_ex(tok, text, (int)size);
        if (obj && (json_tokener_get_parse_end(tok) != size || !json_object_is_type(obj, json_type_object)))
                obj = (json_object_put(obj), NULL);
        json_tokener_free(tok);
        return obj;
}

int enroll_claim_hash(const char *tenant, const char *workload, const char *mode,
                      char ret[static SHA256_HEX_SIZE])
{
        _cleanup_(json_object_putp) json_object *arr = json_object_new_array();
        const char *fields[] = {tenant, workload, mode};
        const char *s;

        if (!arr)
                return -ENOMEM;
        /* A JSON array is an unambiguous encoding: no separator can be smuggled inside a field. */
        FOREACH_ARRAY (f, fields, ELEMENTSOF(fields))
                if (json_object_array_add(arr, json_object_new_string(strempty(*f))) < 0)
                        return -ENOMEM;
        s = json_object_to_json_string_ext(arr, JSON_FLAGS);
        if (!s)
                return -ENOMEM;
        return sha256_hex(s, strlen(s), ret);
}

static int agent_id_generate(char ret[static 37])
{
        unsigned char u[16];

        if (gnutls_rnd(GNUTLS_RND_NONCE, u, sizeof(u)) < 0)
                return -EIO;
        u[6] = (u[6] & 0x0f) | 0x40; /* UUID version 4 */
        u[8] = (u[8] & 0x3f) | 0x80; /* RFC 4122 variant */
        snprintf(ret, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
                 u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
        return 0;
}

/* The fields an enrolment answer shares with a renewal answer, taken from an identity record. */
static int api_identity(ApiResponse *resp, unsigned status, json_object *identity)
{
        _cleanup_(json_object_putp) json_object *out = json_object_new_object();
        static const char *const keys[] = {"agentId", "certificate", "caChain", "expiresAt"};
        int r;

        if (!out)
                return -ENOMEM;
        FOREACH_ARRAY (k, keys, ELEMENTSOF(keys)) {
                r = add_string(out, *k, json_get_string(identity, *k));
                if (r < 0)
                        return r;
        }
        return api_json(resp, status, out);
}

static char *identity_path(const Backend *b, const char *agent_id)
{
        _cleanup_free_ char *name = NULL;

        if (asprintf(&name, "%s.json", agent_id) < 0)
                return NULL;
        return state_path(b->state_dir, "identities", name);
}

static char *idempotency_path(const Backend *b, const char *key)
{
        _cleanup_free_ char *name = NULL;
        char hash[SHA256_HEX_SIZE];

        if (sha256_hex(key, strlen(key), hash) < 0 || asprintf(&name, "%s.json", hash) < 0)
                return NULL;
        return state_path(b->state_dir, "idempotency", name);
}

typedef struct Enrollment {
        const char *tenant, *token, *workload, *csr, *hostname, *mode, *agent_version;
} Enrollment;

static void enrollment_from_json(json_object *body, Enrollment *e)
{
        *e = (Enrollment){
                .tenant = json_get_string(body, "tenantId"),
                .token = json_get_string(body, "token"),
                .workload = json_get_string(body, "workloadId"),
                .csr = json_get_string(body, "csr"),
                .hostname = json_get_string(body, "hostname"),
                .mode = json_get_string(body, "mode"),
                .agent_version = json_get_string(body, "agentVersion"),
        };
}

/* Request-shape checks. Returns the problem text for a 400, NULL if the shape is fine. */
static const char *enrollment_shape_problem(const Enrollment *e, const char *idempotency_key)
{
        if (isempty(e->tenant))
                return "tenantId required for TOTP enrollment";
        if (!state_name_valid(e->tenant))
                return "tenantId contains invalid characters";
        if (isempty(e->workload))
                return "workloadId required";
        if (!state_name_valid(e->workload))
                return "workloadId contains invalid characters";
        if (isempty(idempotency_key))
                return "Idempotency-Key header required";
        if (!streq(idempotency_key, e->workload))
                return "Idempotency-Key must equal workloadId";
        if (!streq_ptr(e->mode, "host") && !streq_ptr(e->mode, "ephemeral"))
                return "mode must be \"host\" or \"ephemeral\"";
        if (isempty(e->csr))
                return "csr required";
        return NULL;
}

static int token_check(const Backend *b, const Enrollment *e, time_t now)
{
        unsigned char secret[TENANT_SECRET_SIZE];
        int r;

        if (isempty(e->token))
                return -EACCES;
        r = tenant_secret_load(b->state_dir, e->tenant, false, secret);
        if (r == -ENOENT)
                return -EACCES; /* unknown tenant and wrong token look alike */
        if (r < 0)
                return r;
        r = totp_verify(secret, sizeof(secret), e->token, (uint64_t)now, b->totp_step);
        explicit_bzero(secret, sizeof(secret));
        return r == -EINVAL ? -EACCES : r;
}

/* 0: the key is new. 1: answered from the record (a retry) or refused (a conflicting claim). 2: the same
 * claim with a new CSR; *ret_identity is the identity to issue a certificate for. */
static int enrollment_lookup(const Backend *b, const char *record_path, const char *claim_hash,
                             const char *csr_hash, ApiResponse *resp, json_object **ret_identity)
{
        _cleanup_(json_object_putp) json_object *record = NULL, *identity = NULL;
        _cleanup_free_ char *path = NULL;
        const char *agent_id;
        int r;

        r = state_json_read(record_path, &record);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (!streq_ptr(json_get_string(record, "claimHash"), claim_hash)) {
                r = api_error(resp, 409, "Idempotency-Key already used with a different request");
                return r < 0 ? r : 1;
        }
        agent_id = json_get_string(record, "agentId");
        path = agent_id ? identity_path(b, agent_id) : NULL;
        if (!path)
                return -EBADMSG;
        r = state_json_read(path, &identity);
        if (r < 0)
                return r;
        if (!streq_ptr(json_get_string(record, "csrHash"), csr_hash)) {
                *ret_identity = TAKE_PTR(identity);
                return 2;
        }
        resp->replayed = true;
        r = api_identity(resp, 201, identity);
        return r < 0 ? r : 1;
}

/* Signs the CSR and returns the certificate and its expiry, for a new identity or a renewal. */
static int issue(const Backend *b, gnutls_x509_crq_t crq, const char *agent_id, const char *tenant,
                 const char *workload, time_t now, json_object *identity)
{
        _cleanup_free_ char *pem = NULL;
        char expires[RFC3339_SIZE], issued[RFC3339_SIZE];
        ClientCertSpec spec = {
                .agent_id = agent_id,
                .tenant = tenant,
                .workload = workload,
                .not_before = now - 60,
                .not_after = now + (time_t)b->cert_validity,
        };
        int r;

        r = pki_sign_client(b->pki, crq, &spec, &pem);
        if (r >= 0)
                r = format_rfc3339(spec.not_after, expires);
        if (r >= 0)
                r = format_rfc3339(now, issued);
        if (r >= 0)
                r = add_string(identity, "certificate", pem);
        if (r >= 0)
                r = add_string(identity, "caChain", b->pki->ca_pem);
        if (r >= 0)
                r = add_string(identity, "expiresAt", expires);
        if (r >= 0)
                r = add_string(identity, "issuedAt", issued);
        return r;
}

static int enrollment_create(const Backend *b, const Enrollment *e, gnutls_x509_crq_t crq, time_t now,
                             json_object **ret)
{
        _cleanup_(json_object_putp) json_object *id = json_object_new_object();
        char agent_id[37], created[RFC3339_SIZE];
        int r;

        if (!id)
                return -ENOMEM;
        r = agent_id_generate(agent_id);
        if (r >= 0)
                r = format_rfc3339(now, created);
        if (r >= 0)
                r = add_string(id, "agentId", agent_id);
        if (r >= 0)
                r = add_string(id, "tenantId", e->tenant);
        if (r >= 0)
                r = add_string(id, "workloadId", e->workload);
        if (r >= 0)
                r = add_string(id, "hostname", e->hostname);
        if (r >= 0)
                r = add_string(id, "mode", e->mode);
        if (r >= 0)
                r = add_string(id, "agentVersion", e->agent_version);
        if (r >= 0)
                r = add_string(id, "createdAt", created);
        if (r >= 0)
                r = issue(b, crq, agent_id, e->tenant, e->workload, now, id);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(id);
        return 0;
}

static int enrollment_store(const Backend *b, json_object *identity, const char *record_path,
                            const char *key, const char *claim_hash, const char *csr_hash)
{
        _cleanup_(json_object_putp) json_object *record = json_object_new_object();
        _cleanup_free_ char *path = identity_path(b, json_get_string(identity, "agentId"));
        int r;

        if (!record || !path)
                return -ENOMEM;
        r = add_string(record, "idempotencyKey", key);
        if (r >= 0)
                r = add_string(record, "claimHash", claim_hash);
        if (r >= 0)
                r = add_string(record, "csrHash", csr_hash);
        if (r >= 0)
                r = add_string(record, "agentId", json_get_string(identity, "agentId"));
        /* Identity first: a record must never point at an identity that does not exist. */
        if (r >= 0)
                r = state_json_write(path, identity);
        if (r >= 0)
                r = state_json_write(record_path, record);
        return r;
}

int api_enroll(const Backend *b, const ApiRequest *req, ApiResponse *resp)
{
        _cleanup_(json_object_putp) json_object *body = NULL, *identity = NULL;
        _cleanup_(gnutls_x509_crq_deinitp) gnutls_x509_crq_t crq = NULL;
        _cleanup_free_ char *record_path = NULL, *csr_problem = NULL;
        char claim_hash[SHA256_HEX_SIZE], csr_hash[SHA256_HEX_SIZE];
        const char *shape;
        Enrollment e;
        bool reissue;
        int r;

        body = parse_object(req->body, req->body_size);
        if (!body)
                return api_error(resp, 400, "request body is not a JSON object");
        enrollment_from_json(body, &e);
        shape = enrollment_shape_problem(&e, req->idempotency_key);
        if (shape)
                return api_error(resp, 400, shape);

        r = token_check(b, &e, req->now);
        if (r == -EACCES)
                return api_error(resp, 401, "invalid or expired enrollment token");
        if (r < 0)
                return r;

        record_path = idempotency_path(b, req->idempotency_key);
        if (!record_path)
                return -ENOMEM;
        r = enroll_claim_hash(e.tenant, e.workload, e.mode, claim_hash);
        if (r >= 0)
                r = sha256_hex(strempty(e.csr), strlen(strempty(e.csr)), csr_hash);
        if (r >= 0)
                r = enrollment_lookup(b, record_path, claim_hash, csr_hash, resp, &identity);
        if (r < 0)
                return r;
        if (r == 1)
                return 0;
        reissue = r == 2;

        r = csr_parse(e.csr, &crq, &csr_problem);
        if (r == -EINVAL)
                return api_error(resp, 400, csr_problem);
        if (r >= 0 && reissue)
                r = issue(b, crq, json_get_string(identity, "agentId"), e.tenant, e.workload, req->now,
                          identity);
        else if (r >= 0)
                r = enrollment_create(b, &e, crq, req->now, &identity);
        if (r >= 0)
                r = enrollment_store(b, identity, record_path, req->idempotency_key, claim_hash, csr_hash);
        if (r < 0)
                return r;
        return api_identity(resp, 201, identity);
}

int api_renew(const Backend *b, const ApiRequest *req, ApiResponse *resp)
{
        _cleanup_(json_object_putp) json_object *body = NULL, *identity = NULL;
        _cleanup_(gnutls_x509_crq_deinitp) gnutls_x509_crq_t crq = NULL;
        _cleanup_free_ char *path = NULL, *csr_problem = NULL;
        const char *csr;
        int r;

        body = parse_object(req->body, req->body_size);
        if (!body)
                return api_error(resp, 400, "request body is not a JSON object");
        csr = json_get_string(body, "csr");
        if (isempty(csr))
                return api_error(resp, 400, "csr required");

        path = identity_path(b, req->agent_id);
        if (!path)
                return -ENOMEM;
        r = state_json_read(path, &identity);
        if (r == -ENOENT)
                return api_error(resp, 403, "no identity for this agent");
        if (r < 0)
                return r;

        r = csr_parse(csr, &crq, &csr_problem);
        if (r == -EINVAL)
                return api_error(resp, 400, csr_problem);
        if (r >= 0)
                r = issue(b, crq, req->agent_id, json_get_string(identity, "tenantId"),
                          json_get_string(identity, "workloadId"), req->now, identity);
        if (r >= 0)
                r = state_json_write(path, identity);
        if (r < 0)
                return r;
        return api_identity(resp, 200, identity);
}

/* The number of leading blanks (space, tab, CR) in [p, p+len): the body is not NUL-terminated. */
static size_t blank_span(const char *p, size_t len)
{
        size_t n = 0;

        while (n < len && (p[n] == ' ' || p[n] == '\t' || p[n] == '\r'))
                n++;
        return n;
}

/* 1 if [line, line+len) is exactly one JSON object (surrounding blanks allowed), 0 if not. */
static int line_is_object(json_tokener *tok, const char *line, size_t len)
{
        json_object *obj;
        size_t end;
        bool ok;

        json_tokener_reset(tok);
        obj = json_tokener_parse_ex(tok, line, (int)len);
        if (!obj) /* syntax error, or incomplete at the end of the line */
                return 0;
        end = json_tokener_get_parse_end(tok);
        ok = json_object_is_type(obj, json_type_object) && blank_span(line + end, len - end) == len - end;
        json_object_put(obj);
        return ok;
}

int ndjson_filter(const char *data, size_t size, char *out, size_t *ret_out_size, size_t *ret_count,
                  size_t *ret_bad_line)
{
        json_tokener *tok = json_tokener_new();
        size_t count = 0, lineno = 0, n_out = 0;
        int r = 0;

        if (!tok)
                return -ENOMEM;
        for (const char *p = data, *end = data + size; p < end && r >= 0;) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t len = (size_t)((nl ?: end) - p);

                lineno++;
                if (blank_span(p, len) < len) { /* not blank */
                        if (memchr(p, 0, len) || !line_is_object(tok, p, len)) {
                                *ret_bad_line = lineno;
                                r = -EBADMSG;
                        } else if (out) {
                                size_t keep = len;
                                while (keep > 0 && p[keep - 1] == '\r')
                                        keep--;
                                memcpy(out + n_out, p, keep);
                                n_out += keep;
                                out[n_out++] = '\n';
                        }
                        count++;
                }
                p += len + 1;
        }
        json_tokener_free(tok);
        if (r < 0)
                return r;
        if (ret_out_size)
                *ret_out_size = n_out;
        *ret_count = count;
        return 0;
}

static char *agent_log_path(const Backend *b, const char *sub, const char *agent_id)
{
        _cleanup_free_ char *name = NULL;

        if (asprintf(&name, "%s.ndjson", agent_id) < 0)
                return NULL;
        return state_path(b->state_dir, sub, name);
}

int api_events(const Backend *b, const ApiRequest *req, ApiResponse *resp)
{
        _cleanup_(json_object_putp) json_object *out = NULL;
        _cleanup_free_ char *path = NULL, *problem = NULL, *lines = NULL;
        size_t count = 0, bad = 0, size = 0;
        int r;

        lines = malloc(req->body_size + 1);
        if (!lines)
                return -ENOMEM;
        r = ndjson_filter(req->body, req->body_size, lines, &size, &count, &bad);
        if (r == -EBADMSG) {
                if (asprintf(&problem, "line %zu is not a JSON object; nothing stored", bad) < 0)
                        return -ENOMEM;
                return api_error(resp, 400, problem);
        }
        if (r < 0)
                return r;

        path = agent_log_path(b, "events", req->agent_id);
        if (!path)
                return -ENOMEM;
        /* One append of the whole batch: a batch is stored entirely or not at all. */
        if (size > 0) {
                r = append_file(path, lines, size);
                if (r < 0)
                        return r;
        }
        out = json_object_new_object();
        if (!out || json_object_object_add(out, "accepted", json_object_new_int64((int64_t)count)) < 0)
                return -ENOMEM;
        return api_json(resp, 202, out);
}

int api_heartbeat(const Backend *b, const ApiRequest *req, ApiResponse *resp)
{
        _cleanup_(json_object_putp) json_object *body = NULL, *out = NULL;
        _cleanup_free_ char *path = NULL, *line = NULL;
        int r;

        body = parse_object(req->body, req->body_size);
        if (!body)
                return api_error(resp, 400, "request body is not a JSON object");
        path = agent_log_path(b, "heartbeats", req->agent_id);
        if (asprintf(&line, "%s\n", json_object_to_json_string_ext(body, JSON_FLAGS)) < 0 || !path)
                return -ENOMEM;
        r = append_file(path, line, strlen(line));
        if (r < 0)
                return r;
        out = json_object_new_object();
        if (!out || json_object_object_add(out, "ok", json_object_new_boolean(1)) < 0)
                return -ENOMEM;
        return api_json(resp, 200, out);
}
