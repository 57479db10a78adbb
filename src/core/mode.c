/* The mode resolver. Pure: everything it looks at is passed in. */

#include "core/mode.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "util/macro.h"

static unsigned mode_triggers(const ModeInputs *in)
{
        unsigned t = 0;

        if (in->flag_ephemeral)
                t |= TRIGGER_FLAG;
        if (!isempty(in->enroll_token))
                t |= TRIGGER_TOKEN;
        if (in->pid == 1)
                t |= TRIGGER_PID1;
        if (in->pid1_sentinel)
                t |= TRIGGER_SENTINEL;
        return t;
}

void mode_resolve(const ModeInputs *in, pid_t parent_pid, Profile *ret)
{
        unsigned t;
        bool ephemeral;

        assert(in && ret);
        assert(in->choice == MODE_CHOICE_TRIGGERS || in->choice == MODE_CHOICE_HOST);
        t = in->choice == MODE_CHOICE_HOST ? 0 : mode_triggers(in);
        ephemeral = t != 0;

        *ret = (Profile){
                .mode = ephemeral ? MODE_EPHEMERAL : MODE_HOST,
                .triggers = t,
                .pid_file = !ephemeral,
                .state_dir = ephemeral ? NULL : HOST_STATE_DIR,
                .credentials = ephemeral ? CREDENTIALS_MEMORY : CREDENTIALS_DISK,
                .sd_notify = !ephemeral,
                .control_system_bus = !ephemeral,
                /* PID 1 without the sentinel is the shim; with it, we are the agent it started. */
                .pid1_shim = (t & TRIGGER_PID1) && !(t & TRIGGER_SENTINEL),
                .log_to_journal = !ephemeral,
                .loader_embedded = ephemeral && in->built_with_loader_embedded,
                .mount_tracefs = !ephemeral,
                .sentinel_misuse = (t & TRIGGER_SENTINEL) && parent_pid != 1,
        };
}

const char *agent_mode_to_string(AgentMode m)
{
        return m == MODE_EPHEMERAL ? "ephemeral" : "host";
}

void mode_triggers_to_string(unsigned triggers, char *buf, size_t size)
{
        static const struct {
                ModeTrigger bit;
                const char *name;
        } names[] = {
                {TRIGGER_FLAG, "--ephemeral"},
                {TRIGGER_TOKEN, "enroll token"},
                {TRIGGER_PID1, "PID 1"},
                {TRIGGER_SENTINEL, PID1_SENTINEL_ENV},
        };
        size_t o = 0;

        buf[0] = 0;
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                int n;
                if (!(triggers & names[i].bit))
                        continue;
                n = snprintf(buf + o, size - o, "%s%s", o ? ", " : "", names[i].name);
                if (n < 0 || (size_t)n >= size - o)
                        return;
                o += (size_t)n;
        }
        if (o == 0)
                snprintf(buf, size, "none");
}
