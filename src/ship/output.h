#pragma once
/* The local sink: events to stdout or an append-only file, written in batches. */

#include "ship/sink.h"

/* `spec` is "stdout" or "file:/PATH" (parse_output()); -EINVAL for anything else, "api" included.
 * `format` is "json", "compact", or "auto" (or NULL): compact when the output is a terminal, JSON otherwise. Colour only
 * on a terminal, and never when NO_COLOR is set to a non-empty value. */
int output_sink_open(const char *spec, const char *format, Sink **ret);
