/* Resolution of the start configuration, in the documented order: flag > environment > config file >
 * profile default; then the mode from the triggers; then the workload identity. */

#include "core/agent-config.h"

#include <assert.h>
#include <errno.h>
#include <unistd.h>

#include "config.h"
#include "core/config-file.h"
#include "util/macro.h"

int agent_config_resolve(ResolveInputs *in, AgentConfig *ret, char *error, size_t error_size)
{
        Settings defaults = {};
        ModeInputs mi;
        IdentityInputs ii;
        int r;

        *ret = (AgentConfig){.config_file_found = in->config_file_found};
        settings_overlay(&ret->settings, in->file);
        settings_overlay(&ret->settings, in->env);
        settings_overlay(&ret->settings, in->flags);

        mi = (ModeInputs){
                .choice = in->mode,
                .flag_ephemeral = settings_bool(&ret->settings, SETTING_EPHEMERAL),
                .enroll_token = settings_str(&ret->settings, SETTING_ENROLL_TOKEN),
                .pid1_sentinel = in->pid1_sentinel,
                .pid = in->pid,
                .built_with_loader_embedded = BUILT_WITH_LOADER_EMBEDDED,
        };
        mode_resolve(&mi, in->ppid, &ret->profile);

        r = settings_defaults(ret->profile.loader_embedded, &defaults);
        if (r >= 0)
                r = settings_fill_defaults(&ret->settings, &defaults);
        settings_done(&defaults);
        if (r < 0)
                return r;

        ii = (IdentityInputs){
                .workload_id = settings_str(&ret->settings, SETTING_WORKLOAD_ID),
                .node_name = settings_str(&ret->settings, SETTING_NODE_ID),
                .pod_uid = settings_str(&ret->settings, SETTING_POD_UID),
                /* No machine fallback in ephemeral mode: a container must not inherit the host's id. */
                .machine_id = ret->profile.mode == MODE_HOST ? in->machine_id : NULL,
        };
        r = workload_id_derive(&ii, ret->workload_id, &ret->workload_id_source);
        if (r == -ENOENT && ret->profile.mode == MODE_EPHEMERAL) {
                snprintf(error, error_size, "%s", IDENTITY_MISSING_MESSAGE);
                return -EINVAL;
        }
        if (r < 0 && r != -ENOENT)
                return r;
        ret->has_workload_id = r >= 0;
        return 0;
}

static int env_layer(const AgentConfigRequest *req, Settings *env, char *error, size_t error_size)
{
        int r;

        if (req->envp) {
                r = settings_from_env(req->envp, env, error, error_size);
                if (r < 0)
                        return r;
        }
        if (req->ignore_env_token)
                setting_value_reset(SETTING_ENROLL_TOKEN, &env->v[SETTING_ENROLL_TOKEN]);
        if (!req->enroll_token)
                return 0;
        setting_value_reset(SETTING_ENROLL_TOKEN, &env->v[SETTING_ENROLL_TOKEN]);
        return setting_parse(SETTING_ENROLL_TOKEN, req->enroll_token, SOURCE_ENV, &env->v[SETTING_ENROLL_TOKEN]);
}

int agent_config_load(const AgentConfigRequest *req, AgentConfig *ret, char *error, size_t error_size)
{
        _cleanup_(settings_done) Settings none = {}, env = {}, file = {};
        Settings *flags;
        const char *path;
        bool required;
        ResolveInputs in;
        int r;

        assert(req && ret && error);
        flags = req->flags ?: &none;
        r = env_layer(req, &env, error, error_size);
        if (r < 0)
                return r;

        path = req->config_file ?: settings_str(flags, SETTING_CONFIG);
        required = path;
        path = path ?: DEFAULT_CONFIG_FILE;
        r = config_file_load(path, required, &file, error, error_size);
        if (r < 0)
                return r;

        in = (ResolveInputs){
                .flags = flags,
                .env = &env,
                .file = &file,
                .mode = req->mode,
                .config_file_found = access(path, F_OK) >= 0,
                .pid1_sentinel = req->pid1_sentinel,
                .pid = req->pid,
                .ppid = req->ppid,
                .machine_id = req->machine_id,
        };
        return agent_config_resolve(&in, ret, error, error_size);
}

void agent_config_done(AgentConfig *c)
{
        settings_done(&c->settings);
        *c = (AgentConfig){};
}

static void print_source(const SettingInfo *info, const SettingValue *v, const char *config_path, FILE *f)
{
        switch (v->source) {
        case SOURCE_FLAG:
                fprintf(f, "(flag --%s)", info->flag);
                break;
        case SOURCE_ENV:
                fprintf(f, "(env %s)", info->env);
                break;
        case SOURCE_FILE:
                fprintf(f, "(file %s:%u)", config_path, v->line);
                break;
        case SOURCE_DEFAULT:
                fprintf(f, "(default)");
                break;
        case SOURCE_UNSET:
                fprintf(f, "(unset)");
                break;
        }
}

void agent_config_print(const AgentConfig *c, FILE *f)
{
        const Profile *p = &c->profile;
        char triggers[128];

        mode_triggers_to_string(p->triggers, triggers, sizeof(triggers));
        fprintf(f, "mode: %s\n", agent_mode_to_string(p->mode));
        fprintf(f, "triggers: %s\n", triggers);
        fprintf(f,
                "profile: pid_file=%s state_dir=%s credentials=%s sd_notify=%s pid1_shim=%s log_sink=%s\n",
                yes_no(p->pid_file), p->state_dir ?: "none",
                p->credentials == CREDENTIALS_MEMORY ? "memory" : "disk", yes_no(p->sd_notify),
                yes_no(p->pid1_shim), p->log_to_journal ? "journal-or-stderr" : "stderr");
        if (c->has_workload_id)
                fprintf(f, "workload_id: %s (from %s)\n", c->workload_id,
                        identity_source_to_string(c->workload_id_source));
        else
                fprintf(f, "workload_id: none (set --workload-id, or LINUXGUARD_NODE_NAME and "
                           "LINUXGUARD_POD_UID)\n");
        fprintf(f, "config_file: %s (%s)\n", settings_str(&c->settings, SETTING_CONFIG),
                c->config_file_found ? "loaded" : "absent");
        fprintf(f, "settings:\n");
        for (size_t i = 0; i < _SETTING_MAX; i++) {
                const SettingInfo *info = setting_info(i);
                const SettingValue *v = &c->settings.v[i];

                if (v->source == SOURCE_UNSET)
                        fprintf(f, "  %s = ", info->name);
                else if (info->secret && i == SETTING_ENROLL_TOKEN && c->token_from_file) {
                        fprintf(f, "  %s = [redacted] (read from %s)\n", info->name,
                                settings_str(&c->settings, SETTING_ENROLL_TOKEN_FILE));
                        continue;
                } else if (info->secret)
                        fprintf(f, "  %s = [redacted] ", info->name);
                else if (info->type == SETTING_LIST)
                        fprintf(f, "  %s = [ %s ] ", info->name, v->str);
                else
                        fprintf(f, "  %s = %s ", info->name, v->str);
                print_source(info, v, settings_str(&c->settings, SETTING_CONFIG), f);
                fputc('\n', f);
        }
}
