#pragma once
/* json-c ownership: a json_object local that is put when it goes out of scope. */

#include <errno.h>
#include <json-c/json.h>

#include "util/macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC_VOID(json_object *, json_object_put);
#define _cleanup_json_ _cleanup_(json_object_putp)

/* Adds `v` (owned; NULL from a failed json_object_new_*() is -ENOMEM) to `o` under `key`: 0, or -ENOMEM
 * with `v` put. */
static inline int json_add(json_object *o, const char *key, json_object *v)
{
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}
