/* A ring-buffer record as the kernel side hands it over, decoded and encoded to an OCSF JSON line.
 * Property: a record that decodes always encodes to one line of valid JSON, whatever bytes its paths,
 * names and arguments hold (a process chooses them). */

#include <json-c/json.h>
#include <stdio.h>

#include "core/event-json.h"
#include "fuzz.h"
#include "util/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ uint8_t *copy = NULL;
        StrBuf out = {};
        LgEvent ev;
        const EventContext ctx = {
                .hostname = "fuzz",
                .product_version = "0",
                .stream_id = "00000000000000000000000000000000",
                .actor_cmd_line = "sh -c x",
                .actor_exe = "/bin/sh",
        };

        /* The decoder gets exactly the bytes, in a buffer of their own size, so ASan sees any overread. */
        copy = malloc(size ? size : 1);
        if (!copy)
                return 0;
        memcpy(copy, data, size);
        if (event_decode(copy, size, &ev) < 0)
                return 0;
        if (event_to_json(&ev, &ctx, &out) == 0) {
                json_object *o;

                if (out.len == 0 || out.data[out.len - 1] != '\n' || memchr(out.data, '\n', out.len - 1)) {
                        fprintf(stderr, "not one line: %.*s\n", (int)out.len, out.data);
                        abort();
                }
                out.data[out.len - 1] = 0; /* the newline */
                o = json_tokener_parse(out.data);
                if (!o) {
                        fprintf(stderr, "invalid JSON: %.*s\n", (int)out.len, out.data);
                        abort();
                }
                json_object_put(o);
        }
        strbuf_reset(&out);
        free(out.data);
        return 0;
}
