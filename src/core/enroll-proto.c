/* Pure protocol code for POST /agent/enroll (docs: issue 3, "The API"). Nothing here performs I/O or
 * reads a clock, so every answer the backend can give is tested byte for byte in test-enroll-proto.c.
 * The request body is the only place the token appears; see enroll_request_build() for how it is kept
 * out of json-c's buffers. */

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <strings.h>

#include "core/enroll-proto.h"
#include "core/http-time.h"
#include "util/json-util.h"
#include "util/macro.h"

#define ERROR_TEXT_MAX 1024

int enroll_request_validate(const EnrollRequest *req, const char **ret_error)
{
        const char *error = NULL;

        if (isempty(req->tenant_id))
                error = ENROLL_TENANT_REQUIRED;
        else if (isempty(req->token))
                error = "enrollment token required";
        else if (isempty(req->workload_id))
                error = "workload id required";
        else if (isempty(req->csr))
                error = "certificate signing request required";
        else if (!req->hostname)
                error = "hostname required";
        else if (!streq_ptr(req->mode, "host") && !streq_ptr(req->mode, "ephemeral"))
                error = "mode must be \"host\" or \"ephemeral\"";
        else if (isempty(req->agent_version))
                error = "agent version required";

        if (ret_error)
                *ret_error = error;
        return error ? -EINVAL : 0;
}

/* Length of `s` as a JSON string literal, quotes included. */
static size_t json_escaped_size(const char *s)
{
        size_t n = 2;

        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                n += *p == '"' || *p == '\\' ? 2 : *p < 0x20 ? 6 : 1;
        return n;
}

static char *json_escape_to(char *out, const char *s)
{
        static const char hex[] = "0123456789abcdef";

        *out++ = '"';
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\') {
                        *out++ = '\\';
                        *out++ = (char)*p;
                } else if (*p < 0x20) {
                        memcpy(out, "\\u00", 4);
                        out[4] = hex[*p >> 4];
                        out[5] = hex[*p & 0xf];
                        out += 6;
                } else
                        *out++ = (char)*p;
        }
        *out++ = '"';
        return out;
}

int enroll_request_build(const EnrollRequest *req, char **ret_body)
{
        static const char token_key[] = "{\"token\":";
        _cleanup_json_ json_object *o = NULL;
        const char *rest;
        size_t n, rest_size;
        char *body, *p;
        int r;

        r = enroll_request_validate(req, NULL);
        if (r < 0)
                return r;

        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        if ((r = json_add(o, "tenantId", json_object_new_string(req->tenant_id))) < 0 ||
            (r = json_add(o, "workloadId", json_object_new_string(req->workload_id))) < 0 ||
            (r = json_add(o, "csr", json_object_new_string(req->csr))) < 0 ||
            (r = json_add(o, "hostname", json_object_new_string(req->hostname))) < 0 ||
            (r = json_add(o, "mode", json_object_new_string(req->mode))) < 0 ||
            (r = json_add(o, "agentVersion", json_object_new_string(req->agent_version))) < 0)
                return r;

        /* `rest` is `{"tenantId":...}`; the token goes in front of its first member. One allocation of
         * the exact size, so no realloc() leaves a partial copy of the token behind. */
        rest = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!rest || rest[0] != '{')
                return -ENOMEM;
        rest_size = strlen(rest + 1);

        n = strlen(token_key) + json_escaped_size(req->token) + 1 + rest_size + 1;
        body = malloc(n);
        if (!body)
                return -ENOMEM;
        p = stpcpy(body, token_key);
        p = json_escape_to(p, req->token);
        *p++ = ',';
        memcpy(p, rest + 1, rest_size + 1);

        *ret_body = body;
        return 0;
}

static int json_parse_object(const char *body, size_t size, json_object **ret, char **ret_reason)
{
        json_tokener *tok;
        json_object *o;
        enum json_tokener_error e;

        if (size > INT_MAX)
                return -EFBIG;
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, body, (int)size);
        e = json_tokener_get_error(tok);
        /* Trailing garbage after a complete value is malformed too. */
        if (o && e == json_tokener_success && json_tokener_get_parse_end(tok) < size) {
                json_object_put(o);
                o = NULL;
                e = json_tokener_error_parse_unexpected;
        }
        json_tokener_free(tok);

        if (!o || e != json_tokener_success) {
                if (o)
                        json_object_put(o);
                if (ret_reason && asprintf(ret_reason, "answer is not valid JSON: %s",
                                           e == json_tokener_continue ? "unexpected end of input"
                                                                      : json_tokener_error_desc(e)) < 0)
                        *ret_reason = NULL;
                return -EBADMSG;
        }
        if (!json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                if (ret_reason)
                        *ret_reason = strdup("answer is not a JSON object");
                return -EBADMSG;
        }
        *ret = o;
        return 0;
}

static int json_get_string(json_object *o, const char *key, char **ret, char **ret_reason)
{
        json_object *v;
        const char *s;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
                if (ret_reason && asprintf(ret_reason, "answer lacks field \"%s\"", key) < 0)
                        *ret_reason = NULL;
                return -ENODATA;
        }
        if (!json_object_is_type(v, json_type_string)) {
                if (ret_reason && asprintf(ret_reason, "field \"%s\" is not a string", key) < 0)
                        *ret_reason = NULL;
                return -EBADMSG;
        }
        s = json_object_get_string(v);
        if (isempty(s)) {
                if (ret_reason && asprintf(ret_reason, "field \"%s\" is empty", key) < 0)
                        *ret_reason = NULL;
                return -ENODATA;
        }
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

void enroll_response_done(EnrollResponse *r)
{
        r->agent_id = mfree(r->agent_id);
        r->certificate = mfree(r->certificate);
        r->ca_chain = mfree(r->ca_chain);
        r->expires_at = 0;
}

int enroll_response_parse(const char *body, size_t size, EnrollResponse *ret, char **ret_reason)
{
        _cleanup_json_ json_object *o = NULL;
        _cleanup_free_ char *expires = NULL;
        EnrollResponse resp = {};
        int r;

        if (ret_reason)
                *ret_reason = NULL;

        r = json_parse_object(body, size, &o, ret_reason);
        if (r < 0)
                return r;

        if ((r = json_get_string(o, "agentId", &resp.agent_id, ret_reason)) < 0 ||
            (r = json_get_string(o, "certificate", &resp.certificate, ret_reason)) < 0 ||
            (r = json_get_string(o, "caChain", &resp.ca_chain, ret_reason)) < 0 ||
            (r = json_get_string(o, "expiresAt", &expires, ret_reason)) < 0)
                goto fail;

        r = rfc3339_parse(expires, &resp.expires_at);
        if (r < 0) {
                if (ret_reason &&
                    asprintf(ret_reason, "field \"expiresAt\" is not an RFC 3339 time: \"%s\"", expires) < 0)
                        *ret_reason = NULL;
                r = -EBADMSG;
                goto fail;
        }

        *ret = resp;
        return 0;

fail:
        enroll_response_done(&resp);
        return r;
}

int enroll_error_parse(const char *body, size_t size, char **ret_text)
{
        _cleanup_json_ json_object *o = NULL;
        json_object *v;
        int r;

        r = json_parse_object(body, size, &o, NULL);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(o, "error", &v) || !json_object_is_type(v, json_type_string))
                return -EBADMSG;
        *ret_text = strdup(json_object_get_string(v));
        return *ret_text ? 0 : -ENOMEM;
}

static bool text_is_printable(const char *s, size_t size)
{
        for (size_t i = 0; i < size; i++)
                if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
                        return false;
        return true;
}

char *enroll_error_text(long status, const char *body, size_t size)
{
        char *text = NULL;

        if (body && size > 0 && enroll_error_parse(body, size, &text) >= 0)
                return text;

        while (size > 0 && isspace((unsigned char)body[size - 1]))
                size--;
        if (body && size > 0 && size <= ERROR_TEXT_MAX && text_is_printable(body, size))
                return strndup(body, size);

        if (asprintf(&text, "HTTP %ld", status) < 0)
                return NULL;
        return text;
}

EnrollVerdict enroll_classify_status(long status)
{
        if (status == 200 || status == 201)
                return ENROLL_VERDICT_SUCCESS;
        if (status == 429 || (status >= 500 && status <= 599))
                return ENROLL_VERDICT_RETRY;
        return ENROLL_VERDICT_FATAL;
}

int enroll_status_to_errno(long status)
{
        switch (enroll_classify_status(status)) {
        case ENROLL_VERDICT_SUCCESS:
                return 0;
        case ENROLL_VERDICT_RETRY:
                return -EAGAIN;
        case ENROLL_VERDICT_FATAL:
        default:
                return status == 401 || status == 403 ? -EACCES : -EPERM;
        }
}
