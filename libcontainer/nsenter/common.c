#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <signal.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <unistd.h>

#include "common.h"

int phase_fd = -1;

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void mark(const char *name)
{
	struct timespec ts;
	char line[96];
	int n;

	if (phase_fd < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(line, sizeof(line), "%d %lld %s\n", (int)getpid(),
		     (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, name);
	if (n > 0 && n < (int)sizeof(line) && write(phase_fd, line, (size_t)n) < 0) {
		/* Marks are best effort. */
	}
}

long clone_parent(void)
{
	/* The raw syscall's argument order differs by architecture (the
	 * kernel's CLONE_BACKWARDS options). With every argument but the
	 * flags 0, only the place of the flags matters: first everywhere
	 * but on s390, whose stack comes first. Other architectures are
	 * refused rather than guessed: see the README. */
#if defined(__s390x__)
	return syscall(SYS_clone, 0, CLONE_PARENT | SIGCHLD, 0, 0, 0);
#elif defined(__x86_64__) || defined(__aarch64__) || defined(__i386__) || defined(__arm__) || \
	defined(__powerpc64__) || defined(__riscv) || defined(__loongarch64)
	return syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
#else
#error "nsenter's clone(2) knows the argument order of x86_64, aarch64, i386, arm, ppc64, riscv64, loongarch64 and s390x only"
#endif
}

#ifndef SYS_close_range
#define SYS_close_range 436 /* the same number on every architecture */
#endif

int close_from(int first)
{
	DIR *d;
	struct dirent *e;

	if (syscall(SYS_close_range, (unsigned)first, ~0U, 0) == 0)
		return 0;
	if (errno != ENOSYS)
		return -1;
	/* Kernels before 5.9. Each fd is closed after readdir moved past
	 * it; the directory's own fd is skipped. */
	d = opendir("/proc/self/fd");
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);

		if (*end == '\0' && end != e->d_name && fd >= first && fd != dirfd(d))
			close((int)fd);
	}
	closedir(d);
	return 0;
}

long load_filter(unsigned int flags, const struct sock_filter *prog, unsigned short len)
{
	struct sock_fprog fprog = { .len = len, .filter = (struct sock_filter *)prog };

	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
}
