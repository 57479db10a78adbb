/* Prints the settings table for test-docs.sh, one setting a line, tab-separated:
 *   name  flag  env  key  type  default  min  max  wording
 * `default` is the value the defaults layer holds ("-" for none, "empty" for an empty list, a list as
 * "a,b"), min and max the range of an integer setting ("-" otherwise), `wording` how --help words a
 * default that is not simply the value ("-" when it is the value, or "none"). The docs are compared with
 * this, so they cannot drift from the table the agent runs with. */

#include <stdio.h>

#include "core/settings.h"

static const char *or_dash(const char *s)
{
        return s ?: "-";
}

int main(void)
{
        static const char *const types[] = {
                [SETTING_STRING] = "string",
                [SETTING_BOOL] = "bool",
                [SETTING_UINT] = "uint",
                [SETTING_LIST] = "list",
        };

        for (SettingId i = 0; i < _SETTING_MAX; i++) {
                const SettingInfo *info = setting_info(i);
                const char *def = info->def;

                if (def && info->type == SETTING_LIST && !*def)
                        def = "empty";
                printf("%s\t%s\t%s\t%s\t%s\t%s\t", info->name, or_dash(info->flag), or_dash(info->env),
                       or_dash(info->key), types[info->type], or_dash(def));
                if (info->type == SETTING_UINT)
                        printf("%llu\t%llu\t", (unsigned long long)info->min, (unsigned long long)info->max);
                else
                        printf("-\t-\t");
                printf("%s\n", or_dash(info->def_doc));
        }
        return fflush(stdout) == 0 ? 0 : 1;
}
