#include "identity/machine-id.h"

#include <stdlib.h>
#include <systemd/sd-id128.h>

#define LINUXGUARD_APP_ID SD_ID128_MAKE(cf, c8, d5, 30, 48, 40, 4c, 6e, 9c, ab, 80, 5b, fe, d4, 39, 64)

char *machine_app_id(void)
{
        sd_id128_t id;
        char *s;

        if (sd_id128_get_machine_app_specific(LINUXGUARD_APP_ID, &id) < 0)
                return NULL;
        s = malloc(SD_ID128_STRING_MAX);
        return s ? sd_id128_to_string(id, s) : NULL;
}
