/* Enrolment protocol: request body, answers, error texts, status verdicts, Retry-After, RFC 3339. */

#include <json-c/json.h>

#include "check-tap.h"
#include "core/enroll-proto.h"
#include "core/http-time.h"
#include "util/macro.h"

static const EnrollRequest good = {
        .tenant_id = "tenant-1",
        .token = "12345678",
        .workload_id = "abcdef",
        .csr = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n",
        .hostname = "node-a",
        .mode = "ephemeral",
        .agent_version = "0.1.0",
};

static const char *field(json_object *o, const char *key)
{
        json_object *v;

        ck_assert_msg(json_object_object_get_ex(o, key, &v), "missing %s", key);
        ck_assert(json_object_is_type(v, json_type_string));
        return json_object_get_string(v);
}

START_TEST(test_body_fields)
{
        _cleanup_secret_ char *body = NULL;
        json_object *o;

        ck_assert_int_eq(enroll_request_build(&good, &body), 0);
        o = json_tokener_parse(body);
        ck_assert_ptr_nonnull(o);
        ck_assert_int_eq(json_object_object_length(o), 7);
        ck_assert_str_eq(field(o, "tenantId"), "tenant-1");
        ck_assert_str_eq(field(o, "token"), "12345678");
        ck_assert_str_eq(field(o, "workloadId"), "abcdef");
        ck_assert_str_eq(field(o, "csr"), good.csr);
        ck_assert_str_eq(field(o, "hostname"), "node-a");
        ck_assert_str_eq(field(o, "mode"), "ephemeral");
        ck_assert_str_eq(field(o, "agentVersion"), "0.1.0");
        json_object_put(o);
        /* Compact, and the token comes first (it is spliced in by hand). */
        ck_assert(startswith(body, "{\"token\":\"12345678\",\"tenantId\":\"tenant-1\",\"workloadId\""));
        ck_assert_ptr_null(strchr(body, '\n'));
}
END_TEST

START_TEST(test_body_token_escaped)
{
        static const char *const tokens[] = {"a\"b", "back\\slash", "ctl\x01\x1f", "nl\nx", "ünï", "/x/"};

        for (size_t i = 0; i < ELEMENTSOF(tokens); i++) {
                EnrollRequest req = good;
                _cleanup_secret_ char *body = NULL;
                json_object *o;

                req.token = tokens[i];
                ck_assert_int_eq(enroll_request_build(&req, &body), 0);
                o = json_tokener_parse(body);
                ck_assert_msg(o != NULL, "body does not parse: %s", body);
                ck_assert_str_eq(field(o, "token"), tokens[i]);
                json_object_put(o);
        }
}
END_TEST

START_TEST(test_validate)
{
        EnrollRequest req = good;
        _cleanup_free_ char *body = NULL;
        const char *error = "unset";

        ck_assert_int_eq(enroll_request_validate(&good, &error), 0);
        ck_assert_ptr_null(error);

        req.tenant_id = NULL;
        req.token = NULL; /* the tenant is reported first */
        ck_assert_int_eq(enroll_request_validate(&req, &error), -EINVAL);
        ck_assert_str_eq(error, "tenantId required for TOTP enrollment");
        req.tenant_id = "";
        ck_assert_int_eq(enroll_request_validate(&req, &error), -EINVAL);
        ck_assert_str_eq(error, ENROLL_TENANT_REQUIRED);
        ck_assert_int_eq(enroll_request_build(&req, &body), -EINVAL);
        ck_assert_ptr_null(body);

        req = good;
        req.token = "";
        ck_assert_int_eq(enroll_request_validate(&req, &error), -EINVAL);
        ck_assert_str_eq(error, "enrollment token required");
        req = good;
        req.mode = "container";
        ck_assert_int_eq(enroll_request_validate(&req, &error), -EINVAL);
        req = good;
        req.csr = NULL;
        ck_assert_int_eq(enroll_request_validate(&req, &error), -EINVAL);
        req = good;
        req.hostname = ""; /* an empty hostname is the backend's business */
        ck_assert_int_eq(enroll_request_validate(&req, &error), 0);
}
END_TEST

#define CERT "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n"

START_TEST(test_response_ok)
{
        static const char body[] =
                "{\"agentId\":\"agent-42\",\"certificate\":\"" CERT "\",\"caChain\":\"" CERT
                "\",\"expiresAt\":\"2030-01-02T03:04:05Z\",\"extra\":1}";
        EnrollResponse resp = {};
        char *reason = NULL;

        ck_assert_int_eq(enroll_response_parse(body, strlen(body), &resp, &reason), 0);
        ck_assert_ptr_null(reason);
        ck_assert_str_eq(resp.agent_id, "agent-42");
        ck_assert_str_eq(resp.certificate, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
        ck_assert_str_eq(resp.ca_chain, resp.certificate);
        ck_assert_uint_eq(resp.expires_at, UINT64_C(1893553445) * USEC_PER_SEC);
        enroll_response_done(&resp);
        ck_assert_ptr_null(resp.agent_id);
}
END_TEST

START_TEST(test_response_malformed)
{
        static const struct {
                const char *body;
                int error;
                const char *reason;
        } cases[] = {
                {"", -EBADMSG, "answer is not valid JSON: unexpected end of input"},
                {"{\"agentId\":", -EBADMSG, "answer is not valid JSON: unexpected end of input"},
                {"<html>502</html>", -EBADMSG, NULL},
                {"{} trailing", -EBADMSG, NULL},
                {"[1,2]", -EBADMSG, "answer is not a JSON object"},
                {"{}", -ENODATA, "answer lacks field \"agentId\""},
                {"{\"agentId\":\"a\",\"caChain\":\"c\",\"expiresAt\":\"2030-01-02T03:04:05Z\"}", -ENODATA,
                 "answer lacks field \"certificate\""},
                {"{\"agentId\":\"a\",\"certificate\":\"c\",\"expiresAt\":\"2030-01-02T03:04:05Z\"}",
                 -ENODATA, "answer lacks field \"caChain\""},
                {"{\"agentId\":\"a\",\"certificate\":\"c\",\"caChain\":\"c\"}", -ENODATA,
                 "answer lacks field \"expiresAt\""},
                {"{\"agentId\":7,\"certificate\":\"c\",\"caChain\":\"c\",\"expiresAt\":\"x\"}", -EBADMSG,
                 "field \"agentId\" is not a string"},
                {"{\"agentId\":\"\",\"certificate\":\"c\",\"caChain\":\"c\",\"expiresAt\":\"x\"}", -ENODATA,
                 "field \"agentId\" is empty"},
                {"{\"agentId\":null,\"certificate\":\"c\",\"caChain\":\"c\",\"expiresAt\":\"x\"}", -ENODATA,
                 "answer lacks field \"agentId\""},
                {"{\"agentId\":\"a\",\"certificate\":\"c\",\"caChain\":\"c\",\"expiresAt\":\"tomorrow\"}",
                 -EBADMSG, "field \"expiresAt\" is not an RFC 3339 time: \"tomorrow\""},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                EnrollResponse resp = {};
                _cleanup_free_ char *reason = NULL;

                ck_assert_int_eq(enroll_response_parse(cases[i].body, strlen(cases[i].body), &resp, &reason),
                                 cases[i].error);
                ck_assert_ptr_nonnull(reason);
                if (cases[i].reason)
                        ck_assert_str_eq(reason, cases[i].reason);
                ck_assert_ptr_null(resp.agent_id);
        }
}
END_TEST

START_TEST(test_error_text)
{
        static const struct {
                long status;
                const char *body;
                const char *want;
        } cases[] = {
                {400, "{\"error\":\"tenantId required for TOTP enrollment\"}",
                 "tenantId required for TOTP enrollment"},
                {401, "{\"error\":\"token expired or invalid: step \\\"42\\\"\"}",
                 "token expired or invalid: step \"42\""},
                {400, "  {\"error\":\"CSR: key too weak (RSA 1024)\",\"code\":7}\n",
                 "CSR: key too weak (RSA 1024)"},
                {403, "forbidden by policy\r\n", "forbidden by policy"},
                {404, "", "HTTP 404"},
                {400, "{\"error\":42}", "{\"error\":42}"},
                {500, "bin\x01\x02", "HTTP 500"},
        };
        _cleanup_free_ char *text = NULL;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *got =
                        enroll_error_text(cases[i].status, cases[i].body, strlen(cases[i].body));
                ck_assert_ptr_nonnull(got);
                ck_assert_str_eq(got, cases[i].want);
        }
        ck_assert_int_eq(enroll_error_parse("{\"error\":\"x\"}", 13, &text), 0);
        ck_assert_str_eq(text, "x");
        ck_assert_int_eq(enroll_error_parse("{\"message\":\"x\"}", 15, &text), -EBADMSG);
}
END_TEST

START_TEST(test_classify)
{
        ck_assert_int_eq(enroll_classify_status(201), ENROLL_VERDICT_SUCCESS);
        ck_assert_int_eq(enroll_classify_status(200), ENROLL_VERDICT_SUCCESS);
        ck_assert_int_eq(enroll_classify_status(429), ENROLL_VERDICT_RETRY);
        ck_assert_int_eq(enroll_classify_status(500), ENROLL_VERDICT_RETRY);
        ck_assert_int_eq(enroll_classify_status(503), ENROLL_VERDICT_RETRY);
        ck_assert_int_eq(enroll_classify_status(599), ENROLL_VERDICT_RETRY);
        ck_assert_int_eq(enroll_classify_status(400), ENROLL_VERDICT_FATAL);
        ck_assert_int_eq(enroll_classify_status(401), ENROLL_VERDICT_FATAL);
        ck_assert_int_eq(enroll_classify_status(403), ENROLL_VERDICT_FATAL);
        ck_assert_int_eq(enroll_classify_status(404), ENROLL_VERDICT_FATAL);
        ck_assert_int_eq(enroll_classify_status(409), ENROLL_VERDICT_FATAL);
        ck_assert_int_eq(enroll_classify_status(204), ENROLL_VERDICT_FATAL);
        ck_assert_int_eq(enroll_classify_status(302), ENROLL_VERDICT_FATAL);
        ck_assert_int_eq(enroll_classify_status(0), ENROLL_VERDICT_FATAL);

        ck_assert_int_eq(enroll_status_to_errno(201), 0);
        ck_assert_int_eq(enroll_status_to_errno(503), -EAGAIN);
        ck_assert_int_eq(enroll_status_to_errno(401), -EACCES);
        ck_assert_int_eq(enroll_status_to_errno(403), -EACCES);
        ck_assert_int_eq(enroll_status_to_errno(400), -EPERM);
        ck_assert_int_eq(enroll_status_to_errno(422), -EPERM);
}
END_TEST

START_TEST(test_retry_after)
{
        /* 1994-11-06 08:49:37 UTC */
        const usec_t date = UINT64_C(784111777) * USEC_PER_SEC;
        usec_t d;

        ck_assert_int_eq(retry_after_parse("120", 0, &d), 0);
        ck_assert_uint_eq(d, 120 * USEC_PER_SEC);
        ck_assert_int_eq(retry_after_parse(" 0 ", 0, &d), 0);
        ck_assert_uint_eq(d, 0);

        ck_assert_int_eq(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", date - 30 * USEC_PER_SEC, &d),
                         0);
        ck_assert_uint_eq(d, 30 * USEC_PER_SEC);
        ck_assert_int_eq(retry_after_parse("Sunday, 06-Nov-94 08:49:37 GMT", date - USEC_PER_SEC, &d), 0);
        ck_assert_uint_eq(d, USEC_PER_SEC);
        ck_assert_int_eq(retry_after_parse("Sun Nov  6 08:49:37 1994", date - 2 * USEC_PER_SEC, &d), 0);
        ck_assert_uint_eq(d, 2 * USEC_PER_SEC);
        /* A date in the past means now. */
        ck_assert_int_eq(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", date + 99, &d), 0);
        ck_assert_uint_eq(d, 0);

        ck_assert_int_eq(retry_after_parse("", 0, &d), -EINVAL);
        ck_assert_int_eq(retry_after_parse("-5", 0, &d), -EINVAL);
        ck_assert_int_eq(retry_after_parse("1.5", 0, &d), -EINVAL);
        ck_assert_int_eq(retry_after_parse("soon", 0, &d), -EINVAL);
        ck_assert_int_eq(retry_after_parse("Sun, 06 Foo 1994 08:49:37 GMT", 0, &d), -EINVAL);
        ck_assert_int_eq(retry_after_parse("Sun, 31 Feb 1994 08:49:37 GMT", 0, &d), -EINVAL);
        ck_assert_int_eq(retry_after_parse("Sun, 06 Nov 1994 08:49:37 PST", 0, &d), -EINVAL);
        ck_assert_int_eq(retry_after_parse("99999999999999999999999", 0, &d), -ERANGE);
        ck_assert_int_eq(retry_after_parse(NULL, 0, &d), -EINVAL);
}
END_TEST

START_TEST(test_rfc3339)
{
        const usec_t base = UINT64_C(1893553445) * USEC_PER_SEC; /* 2030-01-02T03:04:05Z */
        usec_t t;

        ck_assert_int_eq(rfc3339_parse("2030-01-02T03:04:05Z", &t), 0);
        ck_assert_uint_eq(t, base);
        ck_assert_int_eq(rfc3339_parse("2030-01-02t03:04:05z", &t), 0);
        ck_assert_uint_eq(t, base);
        ck_assert_int_eq(rfc3339_parse("2030-01-02T03:04:05.25Z", &t), 0);
        ck_assert_uint_eq(t, base + 250 * USEC_PER_MSEC);
        ck_assert_int_eq(rfc3339_parse("2030-01-02T03:04:05.123456789Z", &t), 0);
        ck_assert_uint_eq(t, base + 123456);
        ck_assert_int_eq(rfc3339_parse("2030-01-02T05:04:05+02:00", &t), 0);
        ck_assert_uint_eq(t, base);
        ck_assert_int_eq(rfc3339_parse("2030-01-01T22:34:05-04:30", &t), 0);
        ck_assert_uint_eq(t, base);

        ck_assert_int_eq(rfc3339_parse("2030-01-02T03:04:05", &t), -EINVAL); /* no zone */
        ck_assert_int_eq(rfc3339_parse("2030-01-02 03:04", &t), -EINVAL);
        ck_assert_int_eq(rfc3339_parse("2030-13-02T03:04:05Z", &t), -EINVAL);
        ck_assert_int_eq(rfc3339_parse("2030-02-30T03:04:05Z", &t), -EINVAL);
        ck_assert_int_eq(rfc3339_parse("2030-01-02T03:04:05.Z", &t), -EINVAL);
        ck_assert_int_eq(rfc3339_parse("2030-01-02T03:04:05Zjunk", &t), -EINVAL);
        ck_assert_int_eq(rfc3339_parse("1234567890", &t), -EINVAL);
}
END_TEST

static Suite *enroll_proto_suite(void)
{
        Suite *s = suite_create("enroll-proto");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_body_fields);
        tcase_add_test(tc, test_body_token_escaped);
        tcase_add_test(tc, test_validate);
        tcase_add_test(tc, test_response_ok);
        tcase_add_test(tc, test_response_malformed);
        tcase_add_test(tc, test_error_text);
        tcase_add_test(tc, test_classify);
        tcase_add_test(tc, test_retry_after);
        tcase_add_test(tc, test_rfc3339);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(enroll_proto_suite)
