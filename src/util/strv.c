/* NULL-terminated string arrays. */

#include "util/strv.h"

#include <stdlib.h>

char **strv_free(char **l)
{
        for (char **i = l; i && *i; i++)
                free(*i);
        free(l);
        return NULL;
}

const char *strv_env_get(const char *const *envp, const char *name)
{
        for (const char *const *e = envp; e && *e; e++) {
                const char *v = startswith(*e, name);
                if (v && *v == '=')
                        return v + 1;
        }
        return NULL;
}
