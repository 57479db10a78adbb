/* Logging.
 *
 * One sink at a time: stderr as text or JSON lines (what container runtimes collect), or the journal with
 * structured fields when systemd connected our stderr to it. Every message passes through the secret
 * redactor first, so a token that slips into a format string is still never written out. Then through
 * log_escape(): messages quote what the backend, the config and the kernel said, and none of that may
 * start a forged line or send a terminal escape. */

#include "util/log.h"

#include "util/utf8.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <time.h>

#define MAX_SECRETS        8
#define MAX_JOURNAL_FIELDS 8
#define REDACTED           "[redacted]"

static int max_level = LOG_INFO;
static LogFormat log_format = LOG_FORMAT_TEXT;
static LogTarget log_target = LOG_TARGET_STDERR;
static const char *secrets[MAX_SECRETS];
static char *journal_fields[MAX_JOURNAL_FIELDS];
static size_t n_journal_fields;

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg",     [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit", [LOG_ERR] = "error",
        [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_set_max_level(int level)
{
        max_level = level;
}

int log_get_max_level(void)
{
        return max_level;
}

void log_set_format(LogFormat format)
{
        log_format = format;
}

void log_set_target(LogTarget target)
{
        log_target = target;
}

int log_add_journal_field(const char *key_value)
{
        if (n_journal_fields >= MAX_JOURNAL_FIELDS)
                return -E2BIG;
        journal_fields[n_journal_fields] = strdup(key_value);
        if (!journal_fields[n_journal_fields])
                return -ENOMEM;
        n_journal_fields++;
        return 0;
}

void log_reset(void)
{
        for (size_t i = 0; i < n_journal_fields; i++)
                journal_fields[i] = mfree(journal_fields[i]);
        n_journal_fields = 0;
        memset(secrets, 0, sizeof(secrets));
        max_level = LOG_INFO;
        log_format = LOG_FORMAT_TEXT;
        log_target = LOG_TARGET_STDERR;
}

int log_register_secret(const char *secret)
{
        if (isempty(secret))
                return 0;
        for (size_t i = 0; i < MAX_SECRETS; i++)
                if (!secrets[i] || secrets[i] == secret) {
                        secrets[i] = secret;
                        return 0;
                }
        return -E2BIG;
}

void log_forget_secret(const char *secret)
{
        for (size_t i = 0; i < MAX_SECRETS; i++)
                if (secrets[i] == secret)
                        secrets[i] = NULL;
}

char *redact_secrets(const char *msg, const char *const *list, size_t n_list)
{
        size_t len = strlen(msg), cap = len + 1;
        char *out = malloc(cap);
        size_t o = 0;

        if (!out)
                return NULL;

        for (size_t i = 0; i < len;) {
                size_t hit = 0;

                for (size_t s = 0; s < n_list; s++) {
                        size_t sl = isempty(list[s]) ? 0 : strlen(list[s]);
                        if (sl > 0 && sl <= len - i && memcmp(msg + i, list[s], sl) == 0 && sl > hit)
                                hit = sl;
                }

                const char *piece = hit ? REDACTED : msg + i;
                size_t pl = hit ? strlen(REDACTED) : 1;
                if (o + pl + 1 > cap) {
                        char *n;
                        cap = (o + pl + 1) * 2;
                        n = realloc(out, cap);
                        if (!n) {
                                explicit_bzero(out, o);
                                free(out);
                                return NULL;
                        }
                        out = n;
                }
                memcpy(out + o, piece, pl);
                o += pl;
                i += hit ?: 1;
        }
        out[o] = 0;
        return out;
}

char *log_escape(const char *msg, bool controls)
{
        size_t n = strlen(msg), o = 0;
        char *out;

        /* Each byte becomes at most four ("\xNN"). */
        if (n > (SIZE_MAX - 1) / 4)
                return NULL;
        out = malloc(n * 4 + 1);
        if (!out)
                return NULL;
        for (size_t i = 0; i < n;) {
                size_t len = utf8_sequence_length(msg + i, n - i);

                if (len == 0 || (controls && msg[i] != '\t' && utf8_is_control(msg + i, len))) {
                        /* Malformed: this byte alone; a control: its whole sequence (C1 is two bytes). */
                        for (size_t k = 0; k < (len ?: 1); k++)
                                o += (size_t)sprintf(out + o, "\\x%02x", (unsigned char)msg[i + k]);
                        i += len ?: 1;
                        continue;
                }
                memcpy(out + o, msg + i, len);
                o += len;
                i += len;
        }
        out[o] = '\0';
        return out;
}

int log_level_from_string(const char *s)
{
        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (level_names[i] && streq(level_names[i], s))
                        return (int)i;
        if (streq(s, "warn"))
                return LOG_WARNING;
        if (streq(s, "err"))
                return LOG_ERR;
        return -EINVAL;
}

const char *log_level_to_string(int level)
{
        if (level < 0 || (size_t)level >= ELEMENTSOF(level_names))
                return NULL;
        return level_names[level];
}

int log_format_from_string(const char *s)
{
        if (streq(s, "text"))
                return LOG_FORMAT_TEXT;
        if (streq(s, "json"))
                return LOG_FORMAT_JSON;
        return -EINVAL;
}

const char *log_format_to_string(LogFormat f)
{
        return f == LOG_FORMAT_JSON ? "json" : "text";
}

/* True when systemd connected stderr to the journal: $JOURNAL_STREAM names stderr's device and inode. */
static bool stderr_is_journal(void)
{
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == (dev_t)dev && st.st_ino == (ino_t)ino;
}

static void format_timestamp(char *buf, size_t size)
{
        struct timespec ts;
        struct tm tm;

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

static void write_journal(int level, int error, const char *file, int line, const char *func,
                          const char *msg)
{
        struct iovec iov[8 + MAX_JOURNAL_FIELDS];
        char prio[32], code_file[256], code_line[32], code_func[128], errno_field[32],
                ident[] = "SYSLOG_IDENTIFIER=linuxguard";
        _cleanup_free_ char *message = NULL;
        size_t n = 0;

        if (asprintf(&message, "MESSAGE=%s", msg) < 0)
                return;
        snprintf(prio, sizeof(prio), "PRIORITY=%i", level);
        snprintf(code_file, sizeof(code_file), "CODE_FILE=%s", file);
        snprintf(code_line, sizeof(code_line), "CODE_LINE=%i", line);
        snprintf(code_func, sizeof(code_func), "CODE_FUNC=%s", func);
        iov[n++] = (struct iovec){message, strlen(message)};
        iov[n++] = (struct iovec){prio, strlen(prio)};
        iov[n++] = (struct iovec){ident, strlen(ident)};
        iov[n++] = (struct iovec){code_file, strlen(code_file)};
        iov[n++] = (struct iovec){code_line, strlen(code_line)};
        iov[n++] = (struct iovec){code_func, strlen(code_func)};
        if (error != 0) {
                snprintf(errno_field, sizeof(errno_field), "ERRNO=%i", abs(error));
                iov[n++] = (struct iovec){errno_field, strlen(errno_field)};
        }
        for (size_t i = 0; i < n_journal_fields; i++)
                iov[n++] = (struct iovec){journal_fields[i], strlen(journal_fields[i])};
        (void)sd_journal_sendv(iov, (int)n);
}

static void write_stderr(int level, int error, const char *raw)
{
        /* JSON: json-c escapes the controls, only malformed UTF-8 is ours to escape. */
        _cleanup_free_ char *msg = log_escape(raw, log_format != LOG_FORMAT_JSON);
        char ts[64];

        if (!msg)
                return;
        format_timestamp(ts, sizeof(ts));
        if (log_format == LOG_FORMAT_JSON) {
                json_object *o = json_object_new_object();
                if (!o)
                        return;
                json_object_object_add(o, "time", json_object_new_string(ts));
                json_object_object_add(o, "level", json_object_new_string(log_level_to_string(level)));
                json_object_object_add(o, "msg", json_object_new_string(msg));
                if (error != 0)
                        json_object_object_add(o, "errno", json_object_new_int(abs(error)));
                fprintf(stderr, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
                json_object_put(o);
        } else
                fprintf(stderr, "%s %s: %s\n", ts, log_level_to_string(level), msg);
}

int log_internal(int level, int error, const char *file, int line, const char *func, const char *format, ...)
{
        _cleanup_free_ char *raw = NULL, *msg = NULL;
        va_list ap;
        int saved = errno, r;

        /* %m refers to the error being logged, not to whatever errno happens to hold. */
        errno = abs(error);
        va_start(ap, format);
        r = vasprintf(&raw, format, ap);
        va_end(ap);
        errno = saved;
        if (r < 0)
                return -abs(error);

        msg = redact_secrets(raw, secrets, MAX_SECRETS);
        explicit_bzero(raw, strlen(raw));
        if (!msg)
                return -abs(error);

        if (log_target == LOG_TARGET_AUTO && stderr_is_journal())
                write_journal(level, error, file, line, func, msg);
        else
                write_stderr(level, error, msg);

        errno = saved;
        return -abs(error);
}
