/* Redaction and level parsing: logs never contain a registered secret. */

#include <stdio.h>

#include "check-tap.h"
#include "util/log.h"

START_TEST(test_redact_table)
{
        static const struct {
                const char *msg;
                const char *secrets[3];
                const char *want;
        } cases[] = {
                {"token=abc123 ok", {"abc123"}, "token=[redacted] ok"},
                {"abc123abc123", {"abc123"}, "[redacted][redacted]"},
                {"nothing here", {"abc123"}, "nothing here"},
                {"a-b-c", {"", NULL}, "a-b-c"},
                /* The longest match wins, so a secret that contains another is removed whole. */
                {"xx SECRETLONG yy", {"SECRET", "SECRETLONG"}, "xx [redacted] yy"},
                {"", {"x"}, ""},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *got = redact_secrets(cases[i].msg, cases[i].secrets, 3);
                ck_assert_ptr_nonnull(got);
                ck_assert_str_eq(got, cases[i].want);
        }
}
END_TEST

static char *capture_log(void (*emit)(void))
{
        char *buf = NULL;
        size_t size = 0;
        FILE *mem = open_memstream(&buf, &size);
        int saved = dup(STDERR_FILENO), fds[2];

        ck_assert_ptr_nonnull(mem);
        ck_assert_int_eq(pipe(fds), 0);
        dup2(fds[1], STDERR_FILENO);
        close(fds[1]);
        emit();
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        for (;;) {
                char chunk[512];
                ssize_t n = read(fds[0], chunk, sizeof(chunk));
                if (n <= 0)
                        break;
                fwrite(chunk, 1, (size_t)n, mem);
        }
        close(fds[0]);
        fclose(mem);
        return buf;
}

static char token[] = "S3CR3T-T0KEN";

static void emit_with_secret(void)
{
        log_register_secret(token);
        log_error("enrolment with %s failed", token);
        log_forget_secret(token);
        log_error("after forget %s", "plain");
}

START_TEST(test_log_never_prints_registered_secret)
{
        _cleanup_free_ char *out = capture_log(emit_with_secret);
        ck_assert_ptr_null(strstr(out, token));
        ck_assert_ptr_nonnull(strstr(out, "error: enrolment with [redacted] failed"));
        ck_assert_ptr_nonnull(strstr(out, "after forget plain"));
}
END_TEST

static void emit_json(void)
{
        log_set_format(LOG_FORMAT_JSON);
        (void)log_error_errno(EACCES, "open \"x\": %m");
        log_reset();
}

START_TEST(test_log_json_line_and_errno)
{
        _cleanup_free_ char *out = capture_log(emit_json);
        ck_assert_ptr_nonnull(strstr(out, "\"level\":\"error\""));
        ck_assert_ptr_nonnull(strstr(out, "\"msg\":\"open \\\"x\\\": Permission denied\""));
        ck_assert_ptr_nonnull(strstr(out, "\"errno\":13"));
}
END_TEST

/* Text the backend or a config chose must not start a forged line or reach the terminal as an escape. */
START_TEST(test_escape_table)
{
        static const struct {
                const char *msg;
                bool controls;
                const char *want;
        } cases[] = {
                {"plain text, tab\tkept", true, "plain text, tab\tkept"},
                {"x\n2026-01-01T00:00:00.000Z info: forged", true,
                 "x\\x0a2026-01-01T00:00:00.000Z info: forged"},
                {"a\r\x1b[31mred\x7f", true, "a\\x0d\\x1b[31mred\\x7f"},
                {"\xc2\x9b"
                 "2J C1 CSI",
                 true, "\\xc2\\x9b2J C1 CSI"},
                {"caf\xc3\xa9 \xe2\x82\xac ok", true, "caf\xc3\xa9 \xe2\x82\xac ok"},
                {"bad \xff \xc0\x8a overlong \xed\xa0\x80 surrogate \xe2\x82", true,
                 "bad \\xff \\xc0\\x8a overlong \\xed\\xa0\\x80 surrogate \\xe2\\x82"},
                {"json keeps \n for json-c, not \xff", false, "json keeps \n for json-c, not \\xff"},
                {"", true, ""},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *got = log_escape(cases[i].msg, cases[i].controls);
                ck_assert_ptr_nonnull(got);
                ck_assert_str_eq(got, cases[i].want);
        }
}
END_TEST

static void emit_forged(void)
{
        log_error("Enrolment refused by the API: %s",
                  "no\n2026-01-01T00:00:00.000Z info: enrolled as \x1b[2Jroot");
}

static void emit_forged_json(void)
{
        log_set_format(LOG_FORMAT_JSON);
        emit_forged();
        log_reset();
}

START_TEST(test_log_one_line_per_message)
{
        _cleanup_free_ char *text = capture_log(emit_forged), *json = capture_log(emit_forged_json);

        ck_assert_ptr_nonnull(strchr(text, '\n'));
        ck_assert_ptr_null(strchr(strchr(text, '\n') + 1, '\n')); /* one line */
        ck_assert_ptr_null(strchr(text, '\x1b'));
        ck_assert_ptr_nonnull(
                strstr(text, "no\\x0a2026-01-01T00:00:00.000Z info: enrolled as \\x1b[2Jroot"));
        ck_assert_ptr_null(strchr(strchr(json, '\n') + 1, '\n'));
        ck_assert_ptr_null(strchr(json, '\x1b'));
        ck_assert_ptr_nonnull(
                strstr(json, "no\\n2026-01-01T00:00:00.000Z info: enrolled as \\u001b[2Jroot"));
}
END_TEST

START_TEST(test_log_errno_returns_negative)
{
        log_set_max_level(LOG_EMERG); /* suppressed, yet still returns the error */
        ck_assert_int_eq(log_error_errno(ENOENT, "x"), -ENOENT);
        ck_assert_int_eq(log_error_errno(-ENOENT, "x"), -ENOENT);
        log_reset();
}
END_TEST

START_TEST(test_level_names)
{
        ck_assert_int_eq(log_level_from_string("debug"), LOG_DEBUG);
        ck_assert_int_eq(log_level_from_string("warning"), LOG_WARNING);
        ck_assert_int_eq(log_level_from_string("warn"), LOG_WARNING);
        ck_assert_int_eq(log_level_from_string("error"), LOG_ERR);
        ck_assert_int_eq(log_level_from_string("loud"), -EINVAL);
        ck_assert_str_eq(log_level_to_string(LOG_NOTICE), "notice");
}
END_TEST

static Suite *log_suite(void)
{
        Suite *s = suite_create("log");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_redact_table);
        tcase_add_test(tc, test_log_never_prints_registered_secret);
        tcase_add_test(tc, test_log_json_line_and_errno);
        tcase_add_test(tc, test_log_errno_returns_negative);
        tcase_add_test(tc, test_escape_table);
        tcase_add_test(tc, test_log_one_line_per_message);
        tcase_add_test(tc, test_level_names);
        suite_add_tcase(s, tc);
        return s;
}

CHECK_MAIN(log_suite)
