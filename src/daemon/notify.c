/* sd_notify helpers. Thin on purpose: the message texts are the contract with systemd, so they sit
 * in one place where a test can read them off a fake NOTIFY_SOCKET. */

#include "daemon/notify.h"

#include <stdarg.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "util/time-util.h"

#define STATUS_MAX 256

static int notify(bool enabled, const char *message)
{
        if (!enabled)
                return 0;
        /* unset_environment=0: we notify more than once (STATUS, RELOADING, STOPPING). */
        return sd_notify(0, message);
}

/* "PREFIX" + the formatted line with every control character made a space. */
static int notify_line(bool enabled, const char *prefix, const char *format, va_list ap)
{
        char buf[STATUS_MAX + 32];
        size_t l = strlen(prefix);

        if (!enabled)
                return 0;
        memcpy(buf, prefix, l + 1);
        (void)vsnprintf(buf + l, STATUS_MAX, format, ap);
        for (char *p = buf + l; *p; p++)
                if ((unsigned char)*p < ' ' || *p == 0x7f)
                        *p = ' ';
        return notify(true, buf);
}

int notify_ready(bool enabled)
{
        return notify(enabled, "READY=1");
}

int notify_status(bool enabled, const char *format, ...)
{
        va_list ap;
        int r;

        va_start(ap, format);
        r = notify_line(enabled, "STATUS=", format, ap);
        va_end(ap);
        return r;
}

int notify_ready_status(bool enabled, const char *format, ...)
{
        va_list ap;
        int r;

        va_start(ap, format);
        r = notify_line(enabled, "READY=1\nSTATUS=", format, ap);
        va_end(ap);
        return r;
}

int notify_reloading(bool enabled)
{
        char buf[64];

        snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%llu",
                 (unsigned long long)now(CLOCK_MONOTONIC));
        return notify(enabled, buf);
}

int notify_stopping(bool enabled)
{
        return notify(enabled, "STOPPING=1");
}

int notify_watchdog_enable(bool enabled, sd_event *event)
{
        if (!enabled)
                return 0;
        return sd_event_set_watchdog(event, true);
}
