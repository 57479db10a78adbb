#pragma once
/* The local event sink: stdout or an append-only file, written in batches. */

#include <stddef.h>

typedef enum OutputKind {
        OUTPUT_STDOUT,
        OUTPUT_FILE,
        OUTPUT_API,
} OutputKind;

typedef struct Output Output;

/* `spec` is "stdout", "file:/PATH" or "api". */
int output_open(const char *spec, Output **ret);
Output *output_free(Output *o);
OutputKind output_kind(const Output *o);
const char *output_describe(const Output *o);

/* Appends one record (a complete line, newline included) to the batch; flushes when the batch is full. */
int output_write(Output *o, const char *data, size_t size);
int output_flush(Output *o);
/* Reopens a file output (after logrotate moved it away). No-op for stdout. */
int output_reopen(Output *o);

static inline void output_freep(Output **o)
{
        *o = output_free(*o);
}
