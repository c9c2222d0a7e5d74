/*
 * The last step of an exec'd process's setup. The setup ran, in Go, in a
 * process the bootstrap did not move into the container's pid namespace
 * (setns(2) only set its pid_for_children), so nothing in the container
 * could see it, let alone ptrace one of its threads while they held the
 * runtime's privileges. Here the setup's locked thread, which alone holds
 * the program's final credentials, bounding set and no_new_privs, clones the program's process into the pid namespace: a copy of
 * that thread only, which makes raw system calls, loads the seccomp
 * filter and execs. It is the
 * runtime's child (CLONE_PARENT), as the setup process is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"
#include "spawn.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

static void __attribute__((noreturn)) child_fail(int fd, int32_t step)
{
	int32_t m[2] = { step, errno };

	if (write(fd, m, sizeof(m)) < 0) {
		/* The setup is gone: nobody is left to tell. */
	}
	_exit(127);
}

/* close_fds closes every fd from first on but keep. Where close_range(2)
 * is refused (a seccomp profile older than it answers ENOSYS or its
 * default errno) it closes them one by one up to the fd limit: there is
 * no /proc/self here to list them. */
static int close_fds(int first, int keep)
{
	struct {
		uint64_t cur, max;
	} lim;
	long top;

	if ((keep <= first || syscall(SYS_close_range, (unsigned)first, (unsigned)keep - 1, 0) == 0) &&
	    syscall(SYS_close_range, (unsigned)(keep < first ? first : keep + 1), ~0U, 0) == 0)
		return 0;
	if (syscall(SYS_prlimit64, 0, 7 /* RLIMIT_NOFILE */, NULL, &lim) < 0)
		return -1;
	top = lim.cur > (1 << 20) ? (1 << 20) : (long)lim.cur;
	for (long fd = first; fd < top; fd++)
		if (fd != keep)
			close((int)fd);
	return 0;
}

/* reset_signals gives every signal Go handles its default action back, as
 * execve(2) would: the mask is restored before the exec, and a signal
 * caught in between must not run Go's handler in this copy of a thread. */
static void reset_signals(void)
{
	/* The kernel's struct sigaction, whatever the architecture's layout:
	 * the handler comes first, and all zero but it means SIG_DFL, no
	 * flags, empty mask. */
	unsigned long cur[8], dfl[8];

	for (int sig = 1; sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		memset(cur, 0, sizeof(cur));
		if (syscall(SYS_rt_sigaction, sig, NULL, cur, 8) < 0)
			continue;
		if (cur[0] == (unsigned long)SIG_IGN || cur[0] == (unsigned long)SIG_DFL)
			continue;
		memset(dfl, 0, sizeof(dfl));
		syscall(SYS_rt_sigaction, sig, dfl, NULL, 8);
	}
}

long corral_spawn(const struct corral_spawn *s)
{
	sigset_t all, old;
	long pid;
	int saved;

	sigfillset(&all);
	if (pthread_sigmask(SIG_SETMASK, &all, &old) != 0)
		return -EINVAL;
	pid = clone_parent();
	if (pid != 0) {
		saved = errno;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return pid < 0 ? -saved : pid;
	}
	/* The child: raw system calls only. */
	reset_signals();
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(s->err_fd, SPAWN_PDEATHSIG);
	if (getppid() != s->parent)
		_exit(1);
	if (close_fds(s->first_fd, s->err_fd) < 0)
		child_fail(s->err_fd, SPAWN_CLOSE);
	if (setsid() < 0)
		child_fail(s->err_fd, SPAWN_SETSID);
	if (s->terminal && ioctl(0, TIOCSCTTY, 0) < 0)
		child_fail(s->err_fd, SPAWN_CTTY);
	/* The runtime may exit as soon as the program runs (exec --detach). */
	if (prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0)
		child_fail(s->err_fd, SPAWN_PDEATHSIG);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
	/* Last: after the filter, only execve (issue 18). */
	if (s->filter != NULL && load_filter(s->filter_flags, s->filter, s->filter_len) < 0)
		child_fail(s->err_fd, SPAWN_SECCOMP);
	execve(s->path, s->argv, s->envp);
	child_fail(s->err_fd, SPAWN_EXEC);
}
