#pragma once
/* The agent's event loop: one Manager owns sd-event and every source the agent runs on. */

#include <systemd/sd-event.h>

#include "agent-config.h"
#include "macro.h"
#include "output.h"
#include "time-util.h"

typedef struct Manager {
        sd_event *event;
        sd_event_source *sigterm_source;
        sd_event_source *sigint_source;
        sd_event_source *sighup_source;
        sd_event_source *heartbeat_source;

        AgentConfig *config; /* borrowed, outlives the manager */
        Output *output;
        char hostname[256];
        usec_t start_usec;
        usec_t heartbeat_interval_usec;
        uint64_t heartbeat_sequence;
} Manager;

int manager_new(Manager **ret, AgentConfig *config);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

int manager_start(Manager *m);
/* Runs until a signal ends it; returns the exit status (143 for SIGTERM, 130 for SIGINT). */
int manager_run(Manager *m);
