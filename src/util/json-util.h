#pragma once
/* json-c ownership: a json_object local that is put when it goes out of scope. */

#include <json-c/json.h>

#include "util/macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(json_object *, json_object_put);
#define _cleanup_json_ _cleanup_(json_object_putp)
