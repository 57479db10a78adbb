/* The health verdict. Kept pure so the rules are tested without a running agent; the notes name what an
 * operator would act on (the degraded reason, the renewal error, the expiry) in one line. */

#include "core/health.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/macro.h"

/* Appends "; " and the formatted text when `buf` already holds something. */
_printf_(3, 4) static void append(char *buf, size_t size, const char *fmt, ...)
{
        size_t n = strnlen(buf, size);
        va_list ap;

        if (n > 0 && n + 2 < size) {
                memcpy(buf + n, "; ", 3);
                n += 2;
        }
        if (n + 1 >= size)
                return;
        va_start(ap, fmt);
        (void)vsnprintf(buf + n, size - n, fmt, ap);
        va_end(ap);
}

static void append_renewal(const HealthInputs *in, char *reason, size_t size)
{
        if (in->renewal_failures > 0)
                append(reason, size, "certificate renewal failing (%u attempts): %s", in->renewal_failures,
                       in->renewal_error ?: "unknown error");
}

bool health_evaluate(const HealthInputs *in, usec_t now, char *reason, size_t reason_size)
{
        bool healthy = true;

        reason[0] = '\0';
        if (in->identity_required && !in->enrolled) {
                healthy = false;
                append(reason, reason_size, "%s",
                       in->enrolling ? "not enrolled yet: enrolment in progress"
                                     : "not enrolled: no identity to send events to the API with");
        } else if (in->enrolled && in->not_after != USEC_INFINITY && now >= in->not_after) {
                healthy = false;
                append(reason, reason_size, "certificate expired %llu s ago",
                       (unsigned long long)((now - in->not_after) / USEC_PER_SEC));
                if (in->enrolling)
                        append(reason, reason_size, "enrolling again");
                else
                        append(reason, reason_size, "no enrolment token to enrol again with");
        }
        append_renewal(in, reason, reason_size);
        if (!isempty(in->degraded_reason))
                append(reason, reason_size, "degraded: %s", in->degraded_reason);
        return healthy;
}
