#pragma once
/* The local sink: events to stdout or an append-only file, written in batches. */

#include "ship/sink.h"

/* `spec` is "stdout" or "file:/PATH" (parse_output()); -EINVAL for anything else, "api" included. */
int output_sink_open(const char *spec, Sink **ret);
