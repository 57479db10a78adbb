#pragma once
/* Logging: levels, text or JSON lines on stderr, or structured journal entries. Secrets never leave. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

#include "util/macro.h"

typedef enum LogFormat {
        LOG_FORMAT_TEXT,
        LOG_FORMAT_JSON,
} LogFormat;

typedef enum LogTarget {
        LOG_TARGET_STDERR, /* always stderr, as a container runtime expects */
        LOG_TARGET_AUTO,   /* the journal when stderr is connected to it ($JOURNAL_STREAM), else stderr */
} LogTarget;

void log_set_max_level(int level);
int log_get_max_level(void);
void log_set_format(LogFormat format);
void log_set_target(LogTarget target);
/* Adds a "KEY=value" field to every journal entry (e.g. LINUXGUARD_MODE=host). Copied. */
int log_add_journal_field(const char *key_value);
void log_reset(void);

/* Secrets registered here are replaced by "[redacted]" in every message. The caller keeps ownership and
 * must call log_forget_secret() before wiping or freeing the buffer. */
int log_register_secret(const char *secret);
void log_forget_secret(const char *secret);

/* Pure: returns a copy of `msg` with each non-empty secret replaced by "[redacted]". NULL on OOM. */
char *redact_secrets(const char *msg, const char *const *secrets, size_t n_secrets);

/* Pure: a copy of `msg` with each malformed UTF-8 byte and, when `controls`, each control character
 * except tab (CR, LF, ESC, DEL, C1) written as \xNN, so one message stays one line of plain text.
 * NULL on OOM. Every stderr line passes through it; the journal stores messages as fields, unescaped. */
char *log_escape(const char *msg, bool controls);

int log_level_from_string(const char *s);
const char *log_level_to_string(int level);
int log_format_from_string(const char *s);
const char *log_format_to_string(LogFormat f);

/* Returns -abs(error) if error != 0, 0 otherwise, so a failure is logged and returned in one statement. */
int log_internal(int level, int error, const char *file, int line, const char *func, const char *format, ...)
        _printf_(6, 7);

#define log_full_errno(level, error, ...)                                                       \
        ({                                                                                      \
                int _level_ = (level), _e_ = (error);                                           \
                _level_ <= log_get_max_level()                                                  \
                        ? log_internal(_level_, _e_, __FILE__, __LINE__, __func__, __VA_ARGS__) \
                        : -abs(_e_);                                                            \
        })
#define log_full(level, ...)      (void)log_full_errno(level, 0, __VA_ARGS__)

#define log_debug(...)            log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)             log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)           log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...)          log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)            log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...)    log_full_errno(LOG_INFO, e, __VA_ARGS__)
#define log_notice_errno(e, ...)  log_full_errno(LOG_NOTICE, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, e, __VA_ARGS__)

#define log_oom()                 log_error_errno(ENOMEM, "Out of memory.")
