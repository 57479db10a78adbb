/* What the backend answers to POST /agent/enroll and /agent/renew: the JSON identity (agent id, PEM
 * certificate and chain, RFC 3339 expiry) and the error bodies whose text reaches the log. */

#include "core/enroll-proto.h"
#include "fuzz.h"
#include "util/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        EnrollResponse resp = {};
        _cleanup_free_ char *reason = NULL, *text = NULL, *shown = NULL;
        long status;

        if (size > 1024 * 1024)
                return 0;
        if (enroll_response_parse((const char *)data, size, &resp, &reason) >= 0)
                enroll_response_done(&resp);
        (void)enroll_error_parse((const char *)data, size, &text);
        status = size > 0 ? 400 + data[0] % 200 : 500;
        shown = enroll_error_text(status, (const char *)data, size);
        (void)enroll_status_to_errno(status);
        return 0;
}
