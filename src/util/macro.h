#pragma once
/* Small helpers for ownership, cleanup and common idioms. Kept deliberately short. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f)               __attribute__((cleanup(f)))
#define _unused_                   __attribute__((unused))
#define _noreturn_                 __attribute__((noreturn))
#define _printf_(a, b)             __attribute__((format(printf, a, b)))
#define _pure_                     __attribute__((pure))
#define _warn_unused_              __attribute__((warn_unused_result))
#define _likely_(x)                (__builtin_expect(!!(x), 1))
#define _unlikely_(x)              (__builtin_expect(!!(x), 0))

#define STRINGIFY_(x)              #x
#define STRINGIFY(x)               STRINGIFY_(x) /* the expansion of macro x, as a string literal */
#define ELEMENTSOF(x)              (sizeof(x) / sizeof((x)[0]))
#define FOREACH_ARRAY(i, array, n) for (typeof(&*(array)) i = (array); i && i < (array) + (n); i++)

/* Hand ownership out of a _cleanup_ variable. */
#define TAKE_GENERIC(var, type, nullvalue)    \
        ({                                    \
                type *_pvar_ = &(var);        \
                type _var_ = *_pvar_;         \
                type _nullvalue_ = nullvalue; \
                *_pvar_ = _nullvalue_;        \
                _var_;                        \
        })
#define TAKE_PTR(ptr) TAKE_GENERIC(ptr, typeof(ptr), NULL)
#define TAKE_FD(fd)   TAKE_GENERIC(fd, int, -EBADF)

/* Declares a NULL-tolerant cleanup wrapper `func##p(type *p)` for `func(type)`. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func) \
        static inline void func##p(type *p)     \
        {                                       \
                if (*p)                         \
                        *p = func(*p);          \
        }
#define DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(type, func) \
        static inline void func##p(type *p)          \
        {                                            \
                if (*p)                              \
                        func(*p);                    \
        }

static inline void *mfree(void *p)
{
        free(p);
        return NULL;
}

static inline void freep(void *p)
{
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline int safe_close(int fd)
{
        if (fd >= 0) {
                int saved = errno;
                (void)close(fd);
                errno = saved;
        }
        return -EBADF;
}

static inline void closep(int *fd)
{
        *fd = safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
        if (*f)
                (void)fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Wipes and frees a NUL-terminated secret: tokens, PEM keys. Accepts NULL, returns NULL. */
static inline char *erase_and_free(char *s)
{
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
        return NULL;
}
static inline void erase_and_freep(char **s)
{
        *s = erase_and_free(*s);
}
#define _cleanup_secret_ _cleanup_(erase_and_freep)

static inline bool streq(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return streq(a, b);
}

static inline bool isempty(const char *s)
{
        return !s || !*s;
}

static inline const char *strempty(const char *s)
{
        return s ?: "";
}

static inline const char *strna(const char *s)
{
        return s ?: "n/a";
}

static inline const char *yes_no(bool b)
{
        return b ? "yes" : "no";
}

/* Returns the suffix after `prefix`, or NULL if `s` does not start with it. */
static inline const char *startswith(const char *s, const char *prefix)
{
        size_t l = strlen(prefix);
        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

/* Turns a libc-style "-1 and errno" result into "-errno". */
static inline int negative_errno(void)
{
        return errno > 0 ? -errno : -EIO;
}
#define RET_NERRNO(expr)                          \
        ({                                        \
                int _r_ = (expr);                 \
                _r_ < 0 ? negative_errno() : _r_; \
        })
