/* Test helper: calls a method without arguments of org.linuxguard.Agent1 over the agent's peer-to-peer
 * control socket (busctl and gdbus cannot: they say Hello to a bus daemon first).
 *
 * Usage: control-call SOCKET METHOD. Exits 0 when the method returned, 1 with the error otherwise. */

#include <stdio.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>

#include "daemon/control.h"
#include "util/macro.h"

int main(int argc, char **argv)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        struct sockaddr_un sa;
        socklen_t len;
        int fd, r;

        if (argc != 3) {
                fprintf(stderr, "usage: control-call SOCKET METHOD\n");
                return 2;
        }
        r = control_socket_address(argv[1], &sa, &len);
        if (r < 0)
                return fprintf(stderr, "control-call: %s: not a socket\n", argv[1]), 2;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, len) < 0)
                return fprintf(stderr, "control-call: %s: %m\n", argv[1]), 1;
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_fd(bus, fd, fd);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r >= 0)
                r = sd_bus_call_method(bus, NULL, CONTROL_OBJECT_PATH, CONTROL_INTERFACE, argv[2], &error,
                                       NULL, "");
        if (r < 0)
                return fprintf(stderr, "control-call: %s: %s\n", argv[2], error.message ?: strerror(-r)), 1;
        return 0;
}
