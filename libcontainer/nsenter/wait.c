/*
 * init's last stage, before the Go runtime starts: the "wait" mode. When
 * Go's init has set the container up (mounts, user, capabilities, bounding
 * set, no_new_privs, seccomp, on its one locked thread), it execs this
 * binary again with the arguments {name, "init", "--corral-wait"}. The
 * kernel's exec transformation of the credentials is the one the
 * program's exec will make, so this process, single-threaded, holds
 * exactly what the program will: none of Go's threads, which kept the
 * runtime's privileges, survives the exec (issue 17). It tells the
 * runtime init is ready, waits on the exec fifo for start, and execs the
 * program.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootstrap.h"
#include "common.h"

/* wait_fail reports on stderr, or on the fifo once start opened it, and
 * exits: before Ready the runtime sees the exit; after start `start`
 * reads the fifo. */
static void __attribute__((noreturn)) wait_fail(int fifo, const char *what, const char *obj, int err)
{
	char msg[512], why[128];
	int n;

	/* In Go's words, which begin in lower case. */
	snprintf(why, sizeof(why), "%s", strerror(err));
	if (why[0] >= 'A' && why[0] <= 'Z' && !(why[1] >= 'A' && why[1] <= 'Z'))
		why[0] = (char)(why[0] - 'A' + 'a');
	n = snprintf(msg, sizeof(msg), "%s%s%s: %s", what, obj != NULL ? " " : "", obj != NULL ? obj : "", why);
	if (n < 0)
		_exit(1);
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	if (write_all(fifo >= 0 ? fifo : 2, msg, (size_t)n) < 0) {
		/* Nobody to tell. */
	}
	if (fifo < 0 && write_all(2, "\n", 1) < 0) {
	}
	_exit(1);
}

/* read_program reads the program's path, arguments and environment from
 * fd: "path\0argc\0arg...\0env...\0". The strings point into one buffer. */
static void read_program(int fd, char **path, char ***argv, char ***envp)
{
	struct stat st;
	char *buf, *p, *end;
	size_t n = 0, i;
	long argc;

	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > (64 << 20))
		wait_fail(-1, "read the program to exec", NULL, EINVAL);
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL || pread(fd, buf, (size_t)st.st_size, 0) != st.st_size)
		wait_fail(-1, "read the program to exec", NULL, errno ? errno : EIO);
	close(fd);
	end = buf + st.st_size;
	*end = '\0';
	for (p = buf; p < end; p += strlen(p) + 1)
		n++;
	if (n < 3)
		wait_fail(-1, "read the program to exec", NULL, EINVAL);
	*path = buf;
	p = buf + strlen(buf) + 1;
	argc = strtol(p, NULL, 10);
	if (argc < 1 || (size_t)argc > n - 2)
		wait_fail(-1, "read the program to exec", NULL, EINVAL);
	p += strlen(p) + 1;
	*argv = calloc((size_t)argc + 1, sizeof(char *));
	*envp = calloc(n - 2 - (size_t)argc + 1, sizeof(char *));
	if (*argv == NULL || *envp == NULL)
		wait_fail(-1, "read the program to exec", NULL, ENOMEM);
	for (i = 0; i < (size_t)argc; i++, p += strlen(p) + 1)
		(*argv)[i] = p;
	for (i = 0; p < end; i++, p += strlen(p) + 1)
		(*envp)[i] = p;
}

/* parse_fds reads "sock,fifo,procfs,program" from the variable. */
static int parse_fds(const char *env, int fds[4])
{
	const char *p = env;

	for (int i = 0; i < 4; i++) {
		char *end;
		long v;

		errno = 0;
		v = strtol(p, &end, 10);
		if (errno != 0 || end == p || v < 3 || v > 1 << 20)
			return -1;
		fds[i] = (int)v;
		if (i < 3 && *end != ',')
			return -1;
		if (i == 3 && *end != '\0')
			return -1;
		p = end + 1;
	}
	return 0;
}

void corral_wait(const char *env)
{
	int fds[4], sock, fifo_handle, procfs, fifo;
	char fdpath[32], *path, **argv, **envp;
	/* initsync's frame of Ready: a big-endian length 1, the kind. */
	const unsigned char ready[5] = { 0, 0, 0, 1, CORRAL_INITSYNC_READY };
	struct stat want, got;

	if (parse_fds(env, fds) < 0)
		wait_fail(-1, CORRAL_ENV_WAIT " is not four file descriptors:", env, EINVAL);
	sock = fds[0];
	fifo_handle = fds[1];
	procfs = fds[2];
	/* The exec made the process dumpable again: nothing in the
	 * container may read its memory or open its /proc files. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		wait_fail(-1, "make the process non-dumpable: prctl(PR_SET_DUMPABLE)", NULL, errno);
	read_program(fds[3], &path, &argv, &envp);

	if (write_all(sock, ready, sizeof(ready)) < 0)
		wait_fail(-1, "tell the runtime init is ready", NULL, errno);
	close(sock);
	/* Blocks until start opens the fifo for reading. */
	snprintf(fdpath, sizeof(fdpath), "self/fd/%d", fifo_handle);
	fifo = openat(procfs, fdpath, O_WRONLY | O_CLOEXEC);
	if (fifo < 0)
		wait_fail(-1, "open exec fifo", NULL, errno);
	if (fstat(fifo_handle, &want) < 0 || fstat(fifo, &got) < 0)
		wait_fail(fifo, "stat exec fifo", NULL, errno);
	if (got.st_dev != want.st_dev || got.st_ino != want.st_ino || !S_ISFIFO(got.st_mode))
		wait_fail(fifo, "open exec fifo: procfs gave another file than the fifo", NULL, EXDEV);
	close(procfs);
	close(fifo_handle);
	if (write_all(fifo, "0", 1) < 0)
		wait_fail(-1, "report the start on the exec fifo", NULL, errno);
	execve(path, argv, envp);
	/* As runc says it. */
	wait_fail(fifo, "exec", argv[0], errno);
}
