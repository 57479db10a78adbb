/* connect-flood N: holds N threads blocked in connect(), to show that no user can exhaust the state the
 * network sensor keeps per connect in flight.
 *
 * Everything stays in a private network namespace (unshare(CLONE_NEWNET), so it needs root): its
 * loopback carries a listener with backlog 1 that never accepts. Once its accept queue is full the kernel
 * drops every further SYN, so each connect() blocks in SYN retransmission (about two minutes at the
 * default tcp_syn_retries). Prints "ready B" on stdout, B the threads blocked in connect() at that moment
 * (all but the two the accept queue took), then waits to be killed. */

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct sockaddr_in target;
static atomic_uint entered;

static void *connector(void *arg)
{
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        (void)arg;
        if (fd < 0)
                return NULL;
        atomic_fetch_add(&entered, 1);
        (void)connect(fd, (struct sockaddr *)&target, sizeof(target));
        pause(); /* a connect that got through (the accept queue's first two) holds its thread too */
        return NULL;
}

static int loopback_up(void)
{
        struct ifreq ifr = {};
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        int r;

        if (fd < 0)
                return -errno;
        strcpy(ifr.ifr_name, "lo");
        r = ioctl(fd, SIOCGIFFLAGS, &ifr);
        if (r >= 0) {
                ifr.ifr_flags |= IFF_UP;
                r = ioctl(fd, SIOCSIFFLAGS, &ifr);
        }
        r = r < 0 ? -errno : 0;
        close(fd);
        return r;
}

/* Threads now inside connect(): /proc/self/task/TID/syscall starts with the syscall's number. */
static unsigned threads_in_connect(void)
{
        char path[300], buf[32], want[16];
        DIR *d = opendir("/proc/self/task");
        struct dirent *de;
        unsigned n = 0;

        snprintf(want, sizeof(want), "%d ", (int)SYS_connect);
        while (d && (de = readdir(d))) {
                FILE *f;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/proc/self/task/%s/syscall", de->d_name);
                f = fopen(path, "re");
                if (!f)
                        continue;
                if (fgets(buf, sizeof(buf), f) && strncmp(buf, want, strlen(want)) == 0)
                        n++;
                fclose(f);
        }
        if (d)
                closedir(d);
        return n;
}

int main(int argc, char **argv)
{
        unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1100;
        socklen_t len = sizeof(target);
        pthread_attr_t attr;
        unsigned blocked = 0;
        int listener;

        if (unshare(CLONE_NEWNET) < 0 || loopback_up() < 0) {
                fprintf(stderr, "connect-flood: cannot set up a private network namespace: %m\n");
                return 77;
        }
        listener = socket(AF_INET, SOCK_STREAM, 0);
        target = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (listener < 0 || bind(listener, (struct sockaddr *)&target, sizeof(target)) < 0 ||
            listen(listener, 1) < 0 || getsockname(listener, (struct sockaddr *)&target, &len) < 0) {
                fprintf(stderr, "connect-flood: listener: %m\n");
                return 1;
        }
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        for (unsigned i = 0; i < n; i++) {
                pthread_t t;
                int r = pthread_create(&t, &attr, connector, NULL);

                if (r != 0) {
                        fprintf(stderr, "connect-flood: thread %u: %s\n", i, strerror(r));
                        return 1;
                }
        }
        while (atomic_load(&entered) < n)
                usleep(10 * 1000);
        /* All but the two the accept queue took must be inside connect() at once. */
        for (int i = 0; i < 200 && (blocked = threads_in_connect()) + 2 < n; i++)
                usleep(50 * 1000);
        printf("ready %u\n", blocked);
        fflush(stdout);
        pause();
        return 0;
}
