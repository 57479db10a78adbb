/* unsetenv() only drops the pointer from environ[]; /proc/PID/environ reads the original block the kernel
 * laid out on the stack, which still holds the bytes. So the whole "NAME=value" string is zeroed in place
 * after it is unset: nothing in /proc even hints that a token was there. */

#include "util/environ-util.h"

#include <stdlib.h>
#include <string.h>

#include "util/macro.h"

extern char **environ;

void environ_scrub(const char *name)
{
        size_t l = strlen(name);
        char *entries[8];
        size_t n = 0;

        for (char **e = environ; e && *e && n < ELEMENTSOF(entries); e++)
                if (strncmp(*e, name, l) == 0 && (*e)[l] == '=')
                        entries[n++] = *e;

        (void)unsetenv(name);
        for (size_t i = 0; i < n; i++)
                explicit_bzero(entries[i], strlen(entries[i]));
}
