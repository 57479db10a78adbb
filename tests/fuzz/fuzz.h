#pragma once
/* Shared by the libFuzzer harnesses: each defines LLVMFuzzerTestOneInput(); fuzz-main.c runs the same
 * function over corpus files when the build has no libFuzzer, so every corpus entry is a regression test. */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of the input (most parsers take C strings); NULL on allocation failure. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
        char *s = malloc(size + 1);

        if (!s)
                return NULL;
        memcpy(s, data, size);
        s[size] = 0;
        return s;
}

/* Splits a copy of the input at NUL bytes into at most `max` strings; returns how many (0 on failure).
 * The caller frees parts[0] (one allocation). */
static inline size_t fuzz_split(const uint8_t *data, size_t size, char **parts, size_t max)
{
        char *s = fuzz_strndup(data, size), *p = s;
        size_t n = 0;

        if (!s)
                return 0;
        while (n < max) {
                parts[n++] = p;
                p = memchr(p, 0, (size_t)(s + size - p));
                if (!p)
                        break;
                p++;
        }
        for (size_t i = n; i < max; i++)
                parts[i] = s + size; /* "" */
        return n;
}
