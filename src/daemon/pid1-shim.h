#pragma once
/* The init shim that runs when the agent is PID 1: re-executes the agent as its child, reaps zombies,
 * forwards signals and exits with the agent's status. Holds no secrets and touches no network. */

#define PID1_TOKEN_FD_ENV "LINUXGUARD_PID1_TOKEN_FD"

/* Runs the shim until the agent exits and returns the status to exit with: the agent's exit code, or
 * 128+N when signal N killed it; EXIT_RUNTIME (1) if the agent could not be started.
 *
 * argv is the full process argv (argv[0] is the program name). The child is this very binary (the inode
 * /proc/self/exe names when the shim starts, so a file replaced on disk is never run) with the same argv
 * minus "--enroll-token X" / "--enroll-token=X", and the environment plus LINUXGUARD_PID1_CHILD=1,
 * without LINUXGUARD_ENROLL_TOKEN. A non-empty `token` is handed over through an inherited pipe named
 * by LINUXGUARD_PID1_TOKEN_FD, then wiped in place (explicit_bzero): the caller keeps the buffer but not
 * the secret. Any --enroll-token value left in argv is wiped too. The caller must drop every other copy
 * of the token (and log_forget_secret() it) before calling: this process lives as long as the agent.
 *
 * Forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to the agent and reaps every child,
 * including orphans re-parented to PID 1. */
int pid1_shim_run(int argc, char **argv, char *token);

/* In the agent started by the shim: if LINUXGUARD_PID1_TOKEN_FD is set, reads the token from that pipe,
 * closes it and scrubs the variable from the environment. 1 and *ret_token (the caller wipes it with
 * erase_and_free), 0 if the variable is absent, <0 on failure (-EBADF: not a pipe we were given). */
int pid1_token_receive(char **ret_token);
