/* A spool segment and cursor as a crash, a full disk or a hostile edit could leave them: the segment is
 * the input after its first 64 bytes, the cursor those bytes. The spool is opened and read to its end,
 * acknowledging as the shipper does. Property: no crash, no endless loop, every read makes progress. */

#include <stdio.h>

#include "fuzz-files.h"
#include "fuzz.h"
#include "ship/spool.h"
#include "util/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const SpoolConfig cfg = {.max_bytes = 4U << 20, .segment_bytes = 1U << 20};
        const char *dir = fuzz_scratch_dir("spool");
        _cleanup_(spool_freep) Spool *s = NULL;
        size_t head = size < 64 ? size : 64;

        if (size > 1U << 20)
                return 0;
        fuzz_write_file(dir, "cursor", data, strnlen((const char *)data, head), 0600);
        fuzz_write_file(dir, "0000000000000001.seg", data + head, size - head, 0600);
        if (spool_open(&s, dir, &cfg) < 0)
                return 0;
        for (unsigned rounds = 0; !spool_is_empty(s); rounds++) {
                EventBatch b = {};
                int r = spool_read(s, 100, 1U << 20, &b);

                event_batch_done(&b);
                if (r <= 0)
                        break;
                if (spool_ack(s) < 0)
                        break;
                if (rounds > 100000) {
                        fprintf(stderr, "the spool never ends\n");
                        abort();
                }
        }
        return 0;
}
