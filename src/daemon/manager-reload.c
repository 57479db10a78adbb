/* Reload (SIGHUP, systemctl reload).
 *
 * The config file is read again; flags and environment stay as they were at start, so only settings whose
 * value came from the file or a default can change. What the loop can apply safely is applied now (log
 * level and format, the local output, the heartbeat interval); everything else is named in the log as
 * needing a restart, so an operator never believes a change took effect when it did not. A file that no
 * longer parses changes nothing. */

#include <errno.h>

#include "core/cli.h"
#include "core/config-file.h"
#include "daemon/manager.h"
#include "daemon/notify.h"
#include "util/log.h"

static bool applies_live(SettingId id)
{
        switch (id) {
        case SETTING_LOG_LEVEL:
        case SETTING_LOG_FORMAT:
        case SETTING_OUTPUT:
        case SETTING_HEARTBEAT_INTERVAL:
                return true;
        default:
                return false;
        }
}

static int apply(Manager *m, SettingId id, const SettingValue *v)
{
        switch (id) {
        case SETTING_LOG_LEVEL:
                log_set_max_level(log_level_from_string(v->str));
                return 0;
        case SETTING_LOG_FORMAT:
                log_set_format(log_format_from_string(v->str));
                return 0;
        case SETTING_OUTPUT:
                return sink_retarget(m->sink, v->str);
        case SETTING_HEARTBEAT_INTERVAL:
                m->heartbeat_interval_usec = v->u * USEC_PER_SEC;
                return 0;
        default:
                return -EOPNOTSUPP;
        }
}

/* Changes what the file (or its absence) now says for every setting not pinned by a flag or the
 * environment. Returns the number of settings that still need a restart. */
static unsigned reload_settings(Manager *m, Settings *file, Settings *defaults)
{
        Settings *cur = &m->config->settings;
        unsigned pending = 0;

        for (size_t i = 0; i < _SETTING_MAX; i++) {
                SettingValue *old = &cur->v[i];
                SettingValue *new = file->v[i].source != SOURCE_UNSET ? &file->v[i] : NULL;
                SettingValue *dflt = &defaults->v[i];
                const char *name = setting_info(i)->name;
                int r;

                if (old->source == SOURCE_FLAG || old->source == SOURCE_ENV || setting_info(i)->secret)
                        continue;
                if (!new)
                        new = dflt->source != SOURCE_UNSET ? dflt : NULL;
                if (!new && old->source == SOURCE_UNSET)
                        continue;
                if (new && old->source != SOURCE_UNSET && streq_ptr(old->str, new->str))
                        continue;

                if (!new || !applies_live(i)) {
                        log_warning("Reload: %s changed in the config file; it takes effect at the next "
                                    "restart.",
                                    name);
                        pending++;
                        continue;
                }
                r = apply(m, i, new);
                if (r < 0) {
                        log_warning_errno(r,
                                          "Reload: could not apply %s = %s now, it takes effect at the next "
                                          "restart: %m",
                                          name, new->str);
                        pending++;
                        continue;
                }
                log_info("Reload: %s = %s.", name, new->str);
                setting_value_reset(i, old);
                *old = *new;
                old->source = new == dflt ? SOURCE_DEFAULT : SOURCE_FILE;
                *new = (SettingValue){};
        }
        return pending;
}

int manager_reload(Manager *m)
{
        _cleanup_(settings_done) Settings file = {}, defaults = {};
        const char *path = settings_str(&m->config->settings, SETTING_CONFIG);
        char error[1024];
        unsigned pending;
        int r;

        (void)notify_reloading(m->config->profile.sd_notify);

        r = sink_reopen(m->sink);
        if (r < 0)
                log_warning_errno(r, "Failed to reopen output %s, keeping the old one: %m",
                                  sink_describe(m->sink));

        r = config_file_load(path, /* required= */ false, &file, error, sizeof(error));
        if (r >= 0)
                r = settings_defaults(m->config->profile.loader_embedded, &defaults);
        if (r < 0) {
                log_error("Reload refused, nothing changed: %s", r == -ENOMEM ? "out of memory" : error);
                (void)notify_ready_status(m->config->profile.sd_notify, "Reload failed: %s", error);
                return r;
        }

        pending = reload_settings(m, &file, &defaults);
        log_info("Reloaded %s%s.", path, pending ? "; some changes need a restart (see above)" : "");
        manager_update_status(m);
        (void)notify_ready(m->config->profile.sd_notify);
        return 0;
}
