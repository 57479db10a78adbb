#pragma once
/* Removing a secret from our own environment, including the bytes /proc/PID/environ still shows. */

/* Overwrites the value of `name` in the process's initial environment block and unsets it. */
void environ_scrub(const char *name);
