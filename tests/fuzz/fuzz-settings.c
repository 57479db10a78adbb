/* Flag and environment values through the settings table: one value for one setting (the first byte
 * picks it), list splitting, and a whole environment block (NUL-separated VAR=value strings). */

#include "core/settings.h"
#include "fuzz.h"
#include "util/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_(settings_done) Settings s = {};
        _cleanup_free_ char *value = NULL;
        char *envp[65] = {}, error[512];
        SettingValue v = {};
        char **list = NULL;
        size_t n = 0, n_env;

        if (size < 1 || size > 16 * 1024)
                return 0;
        value = fuzz_strndup(data + 1, size - 1);
        if (!value)
                return 0;
        SettingId id = data[0] % _SETTING_MAX;
        if (setting_parse(id, value, (data[0] & 0x80) ? SOURCE_FLAG : SOURCE_ENV, &v) >= 0)
                setting_value_reset(id, &v);
        if (setting_list_split(value, &list, &n) >= 0)
                strv_free(list);

        n_env = fuzz_split(data, size, envp, 64);
        if (n_env > 0) {
                envp[n_env] = NULL;
                (void)settings_from_env((const char *const *)envp, &s, error, sizeof(error));
                free(envp[0]);
        }
        return 0;
}
