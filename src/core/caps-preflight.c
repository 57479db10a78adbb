/* Why a capability is missing decides its fix, so each one is diagnosed in the order the kernel decides:
 * a capability the kernel does not know, one the bounding set excludes (the runtime did not add it),
 * one permitted but not effective, and one never granted. The last case has a trap worth its own
 * paragraph: under no_new_privs execve() grants no capability beyond the permitted set the process
 * already had (security/commoncap.c, cap_bprm_creds_from_file()), and a runtime that only adds to the
 * bounding set gives a non-root user an empty one, so file capabilities on the binary do nothing. Ambient
 * capabilities do survive execve() under no_new_privs; that is the fix to name. */

#include "core/caps-preflight.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/macro.h"

static const char *const cap_names[] = {
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
        "CAP_PERFMON",
        "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
};

const char *capability_to_name(int cap, char buf[static 16])
{
        if (cap >= 0 && (size_t)cap < ELEMENTSOF(cap_names))
                return cap_names[cap];
        snprintf(buf, 16, "CAP_%d", cap);
        return buf;
}

static bool has(uint64_t set, int cap)
{
        return cap >= 0 && cap < 64 && (set & CAP_MASK(cap));
}

static bool need_met(const CapsState *s, const CapNeed *n)
{
        return has(s->effective, n->cap) || has(s->effective, n->alternative);
}

/* Missing although the binary's file capabilities grant it, because no_new_privs made execve() skip them. */
static bool ignored_under_no_new_privs(const CapsState *s, const CapNeed *n)
{
        return s->no_new_privs && !need_met(s, n) && has(s->bounding, n->cap) &&
               !has(s->permitted, n->cap) && has(s->file_permitted, n->cap);
}

/* How the runtimes spell it: "BPF" for --cap-add and capabilities.add. */
static const char *short_name(int cap, char buf[static 16])
{
        const char *name = capability_to_name(cap, buf);
        return startswith(name, "CAP_") ?: name;
}

/* One line: the capability, why it is needed, why it is missing and the fix. */
static void explain_missing(FILE *f, const CapsState *s, const CapNeed *n)
{
        char b1[16], b2[16], b3[16];
        const char *name = capability_to_name(n->cap, b1), *add = short_name(n->cap, b2);

        fprintf(f, "  %s (to %s): ", name, n->reason);
        if (s->last_cap >= 0 && n->cap > s->last_cap) {
                fputs("this kernel predates it (Linux 5.8 added CAP_BPF and CAP_PERFMON)", f);
                if (n->alternative >= 0)
                        fprintf(f, "; grant %s instead", capability_to_name(n->alternative, b3));
                fputs(".\n", f);
        } else if (!has(s->bounding, n->cap))
                fprintf(f,
                        "not in the bounding set, so nothing can grant it; add it to the container: "
                        "docker/podman --cap-add=%s, Kubernetes securityContext.capabilities.add: [\"%s\"], "
                        "runc process.capabilities.bounding.\n",
                        add, add);
        else if (has(s->permitted, n->cap))
                fprintf(f,
                        "permitted but not effective; the binary's file capabilities lack the effective "
                        "flag (setcap %s+ep).\n",
                        name);
        else if (ignored_under_no_new_privs(s, n))
                fputs("granted by the binary's file capabilities, which the kernel ignored because "
                      "no_new_privs is set (see below).\n",
                      f);
        else if (has(s->file_permitted, n->cap))
                fputs("granted by the binary's file capabilities, but they were not applied at execve() "
                      "(is the binary on a filesystem mounted nosuid, or was it started under a tracer?).\n",
                      f);
        else if (s->euid == 0)
                fprintf(f,
                        "in the bounding set but not granted to root; add it: docker/podman --cap-add=%s, "
                        "Kubernetes securityContext.capabilities.add: [\"%s\"].\n",
                        add, add);
        else
                fprintf(f,
                        "not granted to uid %u; grant it as an ambient capability (runc "
                        "process.capabilities.ambient), as a file capability (setcap %s+ep on the "
                        "binary, without no_new_privs), or run as root with --cap-add=%s.\n",
                        (unsigned)s->euid, name, add);
}

static void explain_no_new_privs(FILE *f, const CapsState *s, const CapNeed *needs, size_t n_needs)
{
        char b[16];
        bool first = true;

        fputs("no_new_privs is set (Kubernetes allowPrivilegeEscalation: false, docker/podman "
              "--security-opt no-new-privileges), and under no_new_privs the kernel ignores file "
              "capabilities: execve() grants no capability beyond the permitted set the process already "
              "held, and it held none of these. The binary's file capabilities (",
              f);
        for (size_t i = 0; i < n_needs; i++)
                if (ignored_under_no_new_privs(s, &needs[i])) {
                        fprintf(f, "%s%s", first ? "" : ", ", capability_to_name(needs[i].cap, b));
                        first = false;
                }
        fputs(") were therefore not applied. Grant the capabilities instead as ambient capabilities, "
              "which survive execve() under no_new_privs for a non-root user: runc/OCI "
              "process.capabilities.ambient, with each capability also in bounding, permitted, "
              "inheritable and effective. Kubernetes has no field for ambient capabilities: either run "
              "the container as root (runAsUser: 0) with securityContext.capabilities.add, or set "
              "allowPrivilegeEscalation: true so the file capabilities apply. With docker/podman, drop "
              "--security-opt no-new-privileges, or run as root (--user 0) with --cap-add.\n",
              f);
}

int caps_preflight(const CapsState *s, const CapNeed *needs, size_t n_needs, char **ret_message)
{
        _cleanup_free_ char *buf = NULL;
        bool nnp_trap = false;
        size_t size = 0, missing = 0;
        FILE *f;

        *ret_message = NULL;
        for (size_t i = 0; i < n_needs; i++)
                if (!need_met(s, &needs[i])) {
                        missing++;
                        nnp_trap = nnp_trap || ignored_under_no_new_privs(s, &needs[i]);
                }
        if (missing == 0)
                return 0;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "Missing %zu capabilit%s that the enabled features need:\n", missing,
                missing == 1 ? "y" : "ies");
        for (size_t i = 0; i < n_needs; i++)
                if (!need_met(s, &needs[i]))
                        explain_missing(f, s, &needs[i]);
        if (nnp_trap)
                explain_no_new_privs(f, s, needs, n_needs);
        if (fclose(f) != 0 || !buf)
                return -ENOMEM;
        *ret_message = TAKE_PTR(buf);
        return -EPERM;
}
