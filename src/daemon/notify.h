#pragma once
/* sd_notify for host mode. Every call takes `enabled` (the profile's sd_notify) and is a no-op without
 * it, so an ephemeral agent never talks to a NOTIFY_SOCKET it happens to inherit. Errors are returned,
 * never logged: a missing notify socket must not stop the agent. */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "util/macro.h"

/* READY=1: the sensors are attached and delivery runs. Also ends a reload (after notify_reloading()). */
int notify_ready(bool enabled);
/* STATUS=<one line>: newlines and control characters become spaces, at most 256 bytes are sent. */
int notify_status(bool enabled, const char *format, ...) _printf_(2, 3);
/* READY=1 with STATUS= in one datagram, so `systemctl status` never shows a stale line after READY. */
int notify_ready_status(bool enabled, const char *format, ...) _printf_(2, 3);
/* RELOADING=1 and MONOTONIC_USEC=<now> (what Type=notify-reload in newer systemd expects). */
int notify_reloading(bool enabled);
/* STOPPING=1. */
int notify_stopping(bool enabled);
/* Sends WATCHDOG=1 from the loop at half the service's WatchdogSec= (sd_event_set_watchdog). Returns
 * 1 when the watchdog is on, 0 when systemd asked for none or `enabled` is false. */
int notify_watchdog_enable(bool enabled, sd_event *event);
