/* seccomp-deny-bpf PROGRAM [ARGS...]: runs PROGRAM with bpf(2) failing with EPERM, as a container
 * runtime's seccomp profile would, to force the agent into degraded mode. Everything else is allowed. */

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#define X32_SYSCALL_BIT   0x40000000U
#elif defined(__aarch64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_RISCV64
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_PPC64LE
#elif defined(__s390x__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_S390X
#else
#error "seccomp-deny-bpf: add this architecture's AUDIT_ARCH_*"
#endif
#ifndef X32_SYSCALL_BIT
#define X32_SYSCALL_BIT 0xffffffffU /* no such ABI: never matches a real number */
#endif

int main(int argc, char **argv)
{
        struct sock_filter filter[] = {
                /* Another ABI (x86's i386 entry, x32) numbers syscalls differently: deny it whole rather
                 * than let its bpf() through. */
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_AUDIT_ARCH, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_bpf, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = {.len = sizeof(filter) / sizeof(filter[0]), .filter = filter};

        if (argc < 2) {
                fprintf(stderr, "usage: seccomp-deny-bpf PROGRAM [ARGS...]\n");
                return 2;
        }
        /* Root may install a filter without no_new_privs; set it anyway so the helper also works without. */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                fprintf(stderr, "seccomp-deny-bpf: PR_SET_NO_NEW_PRIVS: %s\n", strerror(errno));
                return 1;
        }
        if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
                fprintf(stderr, "seccomp-deny-bpf: seccomp: %s\n", strerror(errno));
                return 1;
        }
        execv(argv[1], argv + 1);
        fprintf(stderr, "seccomp-deny-bpf: exec %s: %s\n", argv[1], strerror(errno));
        return 127;
}
