/* unsetenv() only drops the pointer from environ[]; /proc/PID/environ reads the original block the kernel
 * laid out on the stack, which still holds the bytes. So the value is zeroed in place first. */

#include "environ-util.h"

#include <stdlib.h>
#include <string.h>

#include "macro.h"

extern char **environ;

void environ_scrub(const char *name)
{
        size_t l = strlen(name);

        for (char **e = environ; e && *e; e++)
                if (strncmp(*e, name, l) == 0 && (*e)[l] == '=')
                        explicit_bzero(*e + l + 1, strlen(*e + l + 1));
        (void)unsetenv(name);
}
