/*
 * Helpers of the bootstrap (nsenter.c): whole reads and writes, the phase
 * marks of CORRAL_PHASES, and clone(2) without a new stack.
 */
#ifndef CORRAL_COMMON_H
#define CORRAL_COMMON_H

#include <stddef.h>

/* write_all and read_all move len bytes, across EINTR and short counts;
 * they return 0, or -1 with errno (EPIPE for an end of file). */
int write_all(int fd, const void *buf, size_t len);
int read_all(int fd, void *buf, size_t len);

/* phase_fd is where mark writes "<pid> <monotonic us> <phase>" lines, as
 * Go's internal/phase does: the runtime's CORRAL_PHASES file, or -1. */
extern int phase_fd;
void mark(const char *name);

/* clone_parent forks a child whose parent is our parent (CLONE_PARENT),
 * sharing nothing: it returns the child's pid in the parent, 0 in the
 * child, -1 with errno. The child is a copy of the calling thread only. */
long clone_parent(void);

/* close_from closes every fd from first on: close_range(2), or one by one
 * through /proc/self/fd where the kernel lacks it. Returns 0 or -1. */
int close_from(int first);

/* load_filter installs a classic-BPF seccomp filter of len instructions
 * with seccomp(SECCOMP_SET_MODE_FILTER, flags): it returns the notify
 * listener fd when flags ask for one, else 0, or -1 with errno. */
struct sock_filter;
long load_filter(unsigned int flags, const struct sock_filter *prog, unsigned short len);

#endif
