/*
 * corral_spawn (spawn.c): the exec'd program's process, cloned by the
 * setup's thread with the final credentials.
 */
#ifndef CORRAL_SPAWN_H
#define CORRAL_SPAWN_H

#include <sys/types.h>

struct sock_filter;

/* The step that failed in the child, written with its errno to err_fd. */
enum {
	SPAWN_PDEATHSIG = 1,
	SPAWN_CLOSE,
	SPAWN_SETSID,
	SPAWN_CTTY,
	SPAWN_EXEC,
	SPAWN_SECCOMP,
};

struct corral_spawn {
	const char *path;
	char *const *argv;
	char *const *envp;
	/* Every fd from first_fd on is closed, but err_fd (close-on-exec). */
	int first_fd;
	int err_fd;
	/* Make fd 0 the controlling terminal of the new session. */
	int terminal;
	/* The runtime: the child dies if it is gone already. */
	pid_t parent;
	/* A seccomp filter of filter_len instructions the child loads with
	 * filter_flags right before execve, or NULL. */
	const struct sock_filter *filter;
	unsigned short filter_len;
	unsigned int filter_flags;
};

/* corral_spawn returns the child's pid, or -errno. */
long corral_spawn(const struct corral_spawn *s);

#endif
