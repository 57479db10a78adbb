#pragma once
/* Reads this process's capability state for the pure preflight in caps-preflight.h. */

#include "core/caps-preflight.h"

/* Effective, permitted, inheritable, bounding and ambient sets, no_new_privs, the binary's file
 * capabilities (security.capability of /proc/self/exe) and the kernel's last capability. */
int caps_read_state(CapsState *ret);

/* caps_read_state() + caps_preflight(): 0 all present, -EPERM with *ret_message, or a read error. */
int caps_check(const CapNeed *needs, size_t n_needs, char **ret_message);
