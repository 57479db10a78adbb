/* Test driver for the PID 1 shim, until `linuxguard start` runs it: started as PID 1, it does what
 * start does (token from LINUXGUARD_ENROLL_TOKEN or --enroll-token, then pid1_shim_run()); re-executed
 * by the shim, it plays the agent: receives the token, records what happens in STATE_DIR and acts out
 * a scenario.
 *
 *   pid1-driver STATE_DIR signals|orphans|exit:N [--enroll-token X | --enroll-token=X]
 *
 * STATE_DIR/token: the token the agent received ("<none>"); STATE_DIR/ready: the agent is set up;
 * STATE_DIR/signals: one line per signal the agent received. On SIGTERM, SIGINT or SIGQUIT the agent
 * dies by that signal, so the shim's 128+N mapping is what the test sees. */

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>

#include "core/mode.h"
#include "daemon/pid1-shim.h"
#include "util/environ-util.h"
#include "util/macro.h"

static const char *state_dir;

/* Appends `line` to STATE_DIR/file. */
static void record(const char *file, const char *line)
{
        char path[4096];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", state_dir, file);
        f = fopen(path, "ae");
        if (!f)
                _exit(90);
        fputs(line, f);
        fclose(f);
}

/* Double forks: each grandchild outlives its parent, is re-parented to PID 1 and exits 300 ms later. */
static void spawn_orphans(int n)
{
        for (int i = 0; i < n; i++) {
                pid_t pid = fork();
                if (pid < 0)
                        _exit(91);
                if (pid == 0) {
                        /* Alive long enough for a loaded machine's test to see it under the shim. */
                        if (fork() == 0) {
                                nanosleep(&(struct timespec){.tv_sec = 2}, NULL);
                                _exit(0);
                        }
                        _exit(0);
                }
                (void)waitpid(pid, NULL, 0);
        }
}

static int agent(const char *scenario)
{
        static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
        _cleanup_secret_ char *token = NULL;
        const char *code;
        sigset_t mask;
        char name[32];
        int r;

        r = pid1_token_receive(&token);
        if (r < 0)
                return 92;
        record("token", r > 0 ? token : "<none>");

        code = startswith(scenario, "exit:");
        if (code)
                return atoi(code);

        sigemptyset(&mask);
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                sigaddset(&mask, sigs[i]);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        if (streq(scenario, "orphans"))
                spawn_orphans(5);
        record("ready", "ready\n");

        for (;;) {
                int sig = sigwaitinfo(&mask, NULL);
                if (sig < 0)
                        continue;
                snprintf(name, sizeof(name), "%d\n", sig);
                record("signals", name);
                if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) {
                        signal(sig, SIG_DFL);
                        sigprocmask(SIG_UNBLOCK, &mask, NULL);
                        raise(sig);
                        return 93;
                }
        }
}

/* What `linuxguard start` does before the shim: take the token from the environment or the flag. The
 * flag's bytes are left in argv on purpose: the test checks that the shim wipes them. */
static char *take_token(int argc, char **argv)
{
        const char *e = getenv("LINUXGUARD_ENROLL_TOKEN");
        char *token = e ? strdup(e) : NULL;

        environ_scrub("LINUXGUARD_ENROLL_TOKEN");
        for (int i = 1; i < argc; i++) {
                const char *v = startswith(argv[i], "--enroll-token=");
                if (!v && streq(argv[i], "--enroll-token") && i + 1 < argc)
                        v = argv[i + 1];
                if (v) {
                        erase_and_free(token);
                        token = strdup(v);
                }
        }
        return token;
}

int main(int argc, char **argv)
{
        _cleanup_secret_ char *token = NULL;

        if (argc < 3)
                return 2;
        state_dir = argv[1];
        if (getenv(PID1_SENTINEL_ENV))
                return agent(argv[2]);
        if (getpid() != 1)
                return 3;
        token = take_token(argc, argv);
        return pid1_shim_run(argc, argv, token);
}
