#pragma once
/* Pure decoder of the sensors' ring-buffer records (bpf/linuxguard-events.h): bytes in, struct out. */

#include <stddef.h>
#include <stdint.h>

#include "linuxguard-events.h"

/* Where an event came from. The eBPF sensors are the default (0); in degraded mode the netlink process
 * connector reports exec, exit and uid changes, sequenced by the agent (see linuxguard-events(7)). */
typedef enum LgEventSource {
        LG_EVENT_SOURCE_EBPF = 0,
        LG_EVENT_SOURCE_PROC_CONNECTOR = 1,
} LgEventSource;

/* One decoded record. The string pointers point into the record passed to event_decode() and are valid
 * as long as it is; each is NUL-terminated, NULL when absent. Lengths exclude the NUL. */
typedef struct LgEvent {
        struct lg_event_header hdr;
        union {
                struct lg_exec exec;
                struct lg_exit exit;
                struct lg_cred cred;
                struct lg_file file;
                struct lg_net net;
                struct lg_module module;
                struct lg_ptrace ptrace;
                struct lg_bpf_prog bpf_prog;
        };
        const char *path; /* exec: executed file; file: the path */
        size_t path_len;
        const char *path2; /* file: rename target */
        size_t path2_len;
        const char *name; /* module name, BPF program name */
        size_t name_len;
        const char *argv; /* exec: arguments, each NUL-terminated, argv_size bytes in all */
        size_t argv_size;
        size_t argc;
        const char *container_id; /* not set by the decoder: the sensors fill it from the cgroup */
        LgEventSource source;     /* the decoder leaves 0; a process-connector event has no cred.op */
} LgEvent;

/* Returns 0, or -EBADMSG for a record that is short, oversized, of unknown type or whose lengths do not add
 * up. Never reads outside [data, data + size), never allocates. */
int event_decode(const void *data, size_t size, LgEvent *ret);

const char *event_type_to_string(unsigned type);
