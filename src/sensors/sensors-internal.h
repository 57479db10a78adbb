#pragma once
/* What the sensors' source files share: the Sensors object itself. Not for users of sensors.h. */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "sensors/container-id.h"
#include "sensors/sensors.h"

struct linuxguard_bpf;
struct ring_buffer;

#define SENSORS_MAX_VERIFIERS 4 /* threads verifying programs at start */

struct Sensors {
        SensorsConfig cfg; /* its lists and settings_record are owned copies */
        char file_prefixes[LG_FILE_PREFIX_MAX][LG_FILE_PREFIX_LEN];

        struct linuxguard_bpf *skel; /* embedded loader only */
        /* Further opens of the same object whose programs were verified in parallel, on the skeleton's
         * maps (sensors.c, "parallel verification"); their link slots hold their attachments. */
        struct linuxguard_bpf *verifiers[SENSORS_MAX_VERIFIERS];
        size_t n_verifiers;
        int events_fd; /* maps read by user space: the skeleton's or, pinned, owned */
        int counters_fd;
        int agent_fd;
        bool pinned;
        struct ring_buffer *rb;
        ContainerCache *containers;

        sd_event_source *ring_source;
        sd_event_source *timer_source;
        SensorsHandler handler;
        SensorsBatchEnd batch_end;
        void *userdata;

        uint64_t decode_errors;
        uint64_t events;
        uint64_t last_seq;
        unsigned programs_attached;
        unsigned programs_unavailable;

        pthread_t *detach_threads; /* sensors_detach(): one per link, joined by sensors_free() */
        size_t n_detach;
};

/* Names `pid` in the agent map, the process the programs never report. */
int sensors_agent_claim(int agent_fd, pid_t pid);
