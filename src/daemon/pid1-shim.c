/* PID 1 in a container has two jobs nobody else does: reaping orphans (they are re-parented to us) and
 * turning the runtime's stop signal into the agent's. The kernel drops signals to PID 1 that have no
 * handler, so every signal we care about is blocked and taken with sigwaitinfo(): blocked signals are
 * queued even for init, and SIGCHLD cannot be lost between fork() and the wait.
 *
 * The agent is this same binary, re-executed through an O_PATH fd of /proc/self/exe opened first thing,
 * so a binary replaced on disk in the meantime is never what runs. The token never enters the child's
 * argv or environ: it is written to a pipe before fork() (it fits in PIPE_BUF, so the write neither
 * blocks nor splits), the shim closes its ends and wipes its copy, and the child reads it once. */

#include "daemon/pid1-shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "core/exit-status.h"
#include "core/mode.h"
#include "util/environ-util.h"
#include "util/log.h"
#include "util/macro.h"

extern char **environ;

static const int forwarded_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

#define ENROLL_TOKEN_FLAG "--enroll-token"

static void strv_free_shallow(char ***v)
{
        *v = mfree(*v);
}

/* A copy of argv without --enroll-token and its value (pointers borrowed). Token bytes still in argv
 * are wiped, so neither /proc/1/cmdline nor the child's shows them. Stops at "--". */
static char **argv_without_token(int argc, char **argv)
{
        char **v;
        int n = 0;

        v = calloc((size_t)argc + 1, sizeof(char *));
        if (!v)
                return NULL;
        for (int i = 0; i < argc; i++) {
                const char *value;

                if (i > 0 && streq(argv[i], "--")) {
                        while (i < argc)
                                v[n++] = argv[i++];
                        break;
                }
                if (i > 0 && streq(argv[i], ENROLL_TOKEN_FLAG)) {
                        if (i + 1 < argc)
                                explicit_bzero(argv[i + 1], strlen(argv[i + 1]));
                        i++;
                        continue;
                }
                value = i > 0 ? startswith(argv[i], ENROLL_TOKEN_FLAG "=") : NULL;
                if (value) {
                        explicit_bzero((char *)value, strlen(value));
                        continue;
                }
                v[n++] = argv[i];
        }
        return v;
}

static bool env_is(const char *entry, const char *name)
{
        const char *rest = startswith(entry, name);
        return rest && *rest == '=';
}

/* The child's environment: ours minus anything token-related or shim-internal, plus the sentinel and,
 * with a token, the pipe's fd number. Entries are borrowed except the two we add (in `own`). */
static char **child_environ(int token_fd, char own[2][64])
{
        size_t n = 0, i = 0;
        char **v;

        for (char **e = environ; e && *e; e++)
                n++;
        v = calloc(n + 3, sizeof(char *));
        if (!v)
                return NULL;
        for (char **e = environ; e && *e; e++)
                if (**e && !env_is(*e, PID1_SENTINEL_ENV) && !env_is(*e, PID1_TOKEN_FD_ENV) &&
                    !env_is(*e, "LINUXGUARD_ENROLL_TOKEN"))
                        v[i++] = *e;
        snprintf(own[0], 64, "%s=1", PID1_SENTINEL_ENV);
        v[i++] = own[0];
        if (token_fd >= 0) {
                snprintf(own[1], 64, "%s=%d", PID1_TOKEN_FD_ENV, token_fd);
                v[i++] = own[1];
        }
        return v;
}

/* A pipe holding the token, read end returned (close-on-exec; the child clears it). -EBADF if none. */
static int token_pipe(const char *token)
{
        _cleanup_close_ int r_fd = -EBADF, w_fd = -EBADF;
        int fds[2];
        size_t l;

        if (isempty(token))
                return -EBADF;
        l = strlen(token);
        if (l >= PIPE_BUF)
                return -E2BIG;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return negative_errno();
        r_fd = fds[0];
        w_fd = fds[1];
        if (write(w_fd, token, l) != (ssize_t)l)
                return errno > 0 ? -errno : -EIO;
        return TAKE_FD(r_fd);
}

static void child_exec(int exe_fd, int token_fd, char **child_argv, char **child_envp, const sigset_t *saved)
{
        /* Only async-signal-safe calls between fork() and exec. */
        for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
                (void)signal(forwarded_signals[i], SIG_DFL);
        (void)sigprocmask(SIG_SETMASK, saved, NULL);
        if (token_fd >= 0 && fcntl(token_fd, F_SETFD, 0) < 0)
                _exit(EXIT_RUNTIME);
        execveat(exe_fd, "", child_argv, child_envp, AT_EMPTY_PATH);
        _exit(127);
}

static int exit_status_of(int status)
{
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return EXIT_RUNTIME;
}

/* Reaps every exited child; returns true once the agent is among them, with its status. */
static bool reap_all(pid_t agent, int *ret_status)
{
        bool done = false;
        int status;
        pid_t pid;

        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
                if (pid == agent) {
                        *ret_status = exit_status_of(status);
                        done = true;
                }
        return done;
}

static int supervise(pid_t agent, const sigset_t *mask)
{
        int status = EXIT_RUNTIME;

        for (;;) {
                siginfo_t si;

                if (sigwaitinfo(mask, &si) < 0) {
                        if (errno == EINTR)
                                continue;
                        log_error_errno(errno, "sigwaitinfo() failed, stopping the agent: %m");
                        (void)kill(agent, SIGKILL);
                        (void)waitpid(agent, &status, 0);
                        return EXIT_RUNTIME;
                }
                if (si.si_signo == SIGCHLD) {
                        if (reap_all(agent, &status))
                                return status;
                        continue;
                }
                if (kill(agent, si.si_signo) < 0 && errno != ESRCH)
                        log_warning_errno(errno, "Failed to forward signal %d to the agent, ignoring: %m",
                                          si.si_signo);
        }
}

int pid1_shim_run(int argc, char **argv, char *token)
{
        _cleanup_close_ int exe_fd = -EBADF, token_fd = -EBADF;
        _cleanup_(strv_free_shallow) char **child_argv = NULL, **child_envp = NULL;
        char own_env[2][64];
        sigset_t mask, saved;
        pid_t agent;

        exe_fd = open("/proc/self/exe", O_PATH | O_CLOEXEC);
        if (exe_fd < 0)
                return log_error_errno(errno, "PID 1 shim: failed to open /proc/self/exe: %m"), EXIT_RUNTIME;

        token_fd = token_pipe(token);
        if (token)
                explicit_bzero(token, strlen(token));
        if (token_fd < 0 && token_fd != -EBADF)
                return log_error_errno(token_fd, "PID 1 shim: failed to hand over the token: %m"),
                       EXIT_RUNTIME;

        environ_scrub("LINUXGUARD_ENROLL_TOKEN");
        child_argv = argv_without_token(argc, argv);
        child_envp = child_environ(token_fd, own_env);
        if (!child_argv || !child_envp)
                return log_oom(), EXIT_RUNTIME;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
                sigaddset(&mask, forwarded_signals[i]);
        if (sigprocmask(SIG_BLOCK, &mask, &saved) < 0)
                return log_error_errno(errno, "PID 1 shim: failed to block signals: %m"), EXIT_RUNTIME;

        agent = fork();
        if (agent < 0)
                return log_error_errno(errno, "PID 1 shim: failed to fork the agent: %m"), EXIT_RUNTIME;
        if (agent == 0)
                child_exec(exe_fd, token_fd, child_argv, child_envp, &saved);

        /* Nothing secret stays here: the pipe's only reader is the agent now. */
        token_fd = safe_close(token_fd);
        exe_fd = safe_close(exe_fd);
        log_debug("PID 1 shim: agent is PID %d.", (int)agent);
        return supervise(agent, &mask);
}

int pid1_token_receive(char **ret_token)
{
        _cleanup_close_ int fd = -EBADF;
        char buf[PIPE_BUF + 1];
        const char *e;
        struct stat st;
        size_t n = 0;
        char *end;
        long v;
        int r = 0;

        e = getenv(PID1_TOKEN_FD_ENV);
        if (!e)
                return 0;
        errno = 0;
        v = strtol(e, &end, 10);
        environ_scrub(PID1_TOKEN_FD_ENV);
        if (errno != 0 || end == e || *end || v < 0 || v > INT_MAX)
                return -EBADF;
        fd = (int)v;
        /* Only a pipe: an operator setting the variable must not make us read an arbitrary fd. */
        if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
                fd = -EBADF;
                return -EBADF;
        }
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        while (n < sizeof(buf) - 1) {
                ssize_t k = read(fd, buf + n, sizeof(buf) - 1 - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        r = k < 0 ? negative_errno() : 0;
                        break;
                }
                n += (size_t)k;
        }
        buf[n] = 0;
        if (r >= 0 && (n == 0 || strlen(buf) != n))
                r = -EBADMSG;
        if (r >= 0) {
                *ret_token = strdup(buf);
                r = *ret_token ? 1 : -ENOMEM;
        }
        explicit_bzero(buf, sizeof(buf));
        return r;
}
