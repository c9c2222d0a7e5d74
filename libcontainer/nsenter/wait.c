/*
 * init's last stage, before the Go runtime starts: the "wait" mode. When
 * Go's init has set the container up (mounts, user, capabilities, bounding
 * set, no_new_privs, on its one locked thread), it execs this binary again
 * with the arguments {name, "init", "--corral-wait"}. The kernel's exec
 * transformation of the credentials is the one the program's exec will
 * make, so this process, single-threaded, holds exactly what the program
 * will: none of Go's threads, which kept the runtime's privileges,
 * survives the exec (issue 17). It loads the seccomp filter, tells the
 * runtime init is ready, waits on the exec fifo for start, and execs the
 * program. After the filter it makes only the system calls any profile
 * that lets a program start allows as runc's init makes them: write,
 * openat, fstat, close and execve (sendmsg and read as well, to hand a
 * notify listener to the runtime), so an old profile that lists no newer
 * system call runs (issue 18).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bootstrap.h"
#include "common.h"

/* sock, fifo, procfs, program, filter, exe, hooks. */
#define WAIT_FDS 7

/* The runtime's socket until Ready, -1 after: where wait_fail reports. */
static int wait_sock = -1;

/* append_uvarint appends v as Go's binary.AppendUvarint does. */
static size_t append_uvarint(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

/* wait_send_error sends initsync's Error message: a frame whose payload is
 * posenc's encoding of InitError{Step, Message, Errno}, the strings as
 * their length and bytes, the errno as a uvarint. */
void wait_send_error(int sock, const char *step, const char *msg, int err)
{
	unsigned char buf[600];
	size_t n = 5, len;

	len = strlen(step);
	n += append_uvarint(buf + n, len);
	memcpy(buf + n, step, len);
	n += len;
	len = strlen(msg);
	n += append_uvarint(buf + n, len);
	memcpy(buf + n, msg, len);
	n += len;
	n += append_uvarint(buf + n, (uint64_t)err);
	buf[0] = (unsigned char)((n - 4) >> 24);
	buf[1] = (unsigned char)((n - 4) >> 16);
	buf[2] = (unsigned char)((n - 4) >> 8);
	buf[3] = (unsigned char)(n - 4);
	buf[4] = CORRAL_INITSYNC_ERROR;
	if (write_all(sock, buf, n) < 0) {
		/* The runtime sees the exit. */
	}
}

/* wait_fail reports "what obj: error" and exits: before Ready to the
 * runtime, as an initsync Error of the step; once start opened the fifo,
 * on the fifo, which `start` prints, as "step: what obj: error" (an
 * execve error without the step, as runc says it); else on stderr. */
static void __attribute__((noreturn)) wait_fail(int fifo, const char *step, const char *what, const char *obj, int err)
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
	msg[n] = '\0';
	if (fifo < 0 && wait_sock >= 0) {
		wait_send_error(wait_sock, step, msg, err);
		_exit(1);
	}
	fifo = fifo >= 0 ? fifo : 2;
	if (strcmp(step, "exec") != 0 && (write_all(fifo, step, strlen(step)) < 0 || write_all(fifo, ": ", 2) < 0))
		_exit(1);
	if (write_all(fifo, msg, (size_t)n) < 0)
		_exit(1);
	if (fifo == 2 && write_all(2, "\n", 1) < 0) {
	}
	_exit(1);
}

/* What the wait mode execs, and the LSM attributes it writes first. */
struct program {
	char *path, **argv, **envp;
	/* nattr triples: the step that names a failure ("apparmor"), the
	 * attribute below /proc/self ("attr/apparmor/exec"), its value. */
	long nattr;
	char **attr;
};

/* read_program reads fd: "path\0argc\0nattr\0arg...\0(step\0attr\0value\0)...
 * env...\0". The strings point into one buffer. */
static void read_program(int fd, struct program *pr)
{
	struct stat st;
	char *buf, *p, *end;
	size_t n = 0, i;
	long argc;

	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > (64 << 20))
		wait_fail(-1, "init", "read the program to exec", NULL, EINVAL);
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL || pread(fd, buf, (size_t)st.st_size, 0) != st.st_size)
		wait_fail(-1, "init", "read the program to exec", NULL, errno ? errno : EIO);
	close(fd);
	end = buf + st.st_size;
	*end = '\0';
	for (p = buf; p < end; p += strlen(p) + 1)
		n++;
	if (n < 4)
		wait_fail(-1, "init", "read the program to exec", NULL, EINVAL);
	pr->path = buf;
	p = buf + strlen(buf) + 1;
	argc = strtol(p, NULL, 10);
	p += strlen(p) + 1;
	pr->nattr = strtol(p, NULL, 10);
	p += strlen(p) + 1;
	if (argc < 1 || pr->nattr < 0 || pr->nattr > 8 || (size_t)(argc + 3 * pr->nattr) > n - 3)
		wait_fail(-1, "init", "read the program to exec", NULL, EINVAL);
	pr->argv = calloc((size_t)argc + 1, sizeof(char *));
	pr->attr = calloc((size_t)(3 * pr->nattr) + 1, sizeof(char *));
	pr->envp = calloc(n - 3 - (size_t)argc - (size_t)(3 * pr->nattr) + 1, sizeof(char *));
	if (pr->argv == NULL || pr->attr == NULL || pr->envp == NULL)
		wait_fail(-1, "init", "read the program to exec", NULL, ENOMEM);
	for (i = 0; i < (size_t)argc; i++, p += strlen(p) + 1)
		pr->argv[i] = p;
	for (i = 0; i < (size_t)(3 * pr->nattr); i++, p += strlen(p) + 1)
		pr->attr[i] = p;
	for (i = 0; p < end; i++, p += strlen(p) + 1)
		pr->envp[i] = p;
}

/* write_attrs writes the LSM attributes (AppArmor's "exec PROFILE",
 * SELinux's exec label) through init's procfs: they take effect at the
 * next exec, the program's, and only their opener may write them, with
 * the credentials it opened them with: Go, which execs into this mode,
 * leaves them to it. */
static void write_attrs(int procfs, const struct program *pr)
{
	char path[64], what[320];

	for (long i = 0; i < pr->nattr; i++) {
		const char *step = pr->attr[3 * i], *attr = pr->attr[3 * i + 1], *value = pr->attr[3 * i + 2];
		int fd;

		snprintf(path, sizeof(path), "self/%s", attr);
		fd = openat(procfs, path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write_all(fd, value, strlen(value)) < 0) {
			/* As Go's writeLSMAttrs says it. */
			snprintf(what, sizeof(what), "%s exec label \"%s\": write /proc/%s", step, value, path);
			wait_fail(-1, step, what, NULL, errno);
		}
		close(fd);
	}
}

/* parse_fds reads "sock,fifo,procfs,program,filter,exe,hooks" from the
 * variable; the last three are -1 when unused: filter when Go loaded the
 * filter itself or there is none, exe and hooks without startContainer
 * hooks. */
static int parse_fds(const char *env, int fds[WAIT_FDS])
{
	const char *p = env;

	for (int i = 0; i < WAIT_FDS; i++) {
		char *end;
		long v;

		errno = 0;
		v = strtol(p, &end, 10);
		if (errno != 0 || end == p || v > 1 << 20 || (v < 3 && !(i >= 4 && v == -1)))
			return -1;
		fds[i] = (int)v;
		if (i < WAIT_FDS - 1 && *end != ',')
			return -1;
		if (i == WAIT_FDS - 1 && *end != '\0')
			return -1;
		p = end + 1;
	}
	return 0;
}

/* exec_hooks execs the runtime's binary (exe) into its Go "hooks" mode
 * (libcontainer/hooks_mode_linux.go), which runs the startContainer hooks,
 * writes the LSM attributes through procfs, and execs the program,
 * reporting on the fifo. Every thread Go makes there has this process's
 * credentials and filter. A profile that denies execveat fails here: no
 * path to the binary is safe to exec instead (the container's /proc/1
 * could have been mounted over by then). */
static void __attribute__((noreturn)) exec_hooks(int fifo, int exe, int hooks, int procfs)
{
	char env[80];
	char *argv[] = { "corral", CORRAL_ARG_INIT, CORRAL_MARK_HOOKS, NULL };
	char *envp[] = { env, NULL };

	snprintf(env, sizeof(env), CORRAL_ENV_HOOKS "=%d,%d,%d", fifo, hooks, procfs);
	syscall(SYS_execveat, exe, "", argv, envp, AT_EMPTY_PATH);
	wait_fail(fifo, "hooks",
		  "exec into the hooks mode, which runs the startContainer hooks (the seccomp profile must allow execveat)",
		  NULL, errno);
}

/* load_seccomp installs the filter that fd holds, as Go wrote it: its
 * seccomp(2) flags as a native u32, then the classic-BPF instructions. A
 * notify listener goes to the runtime as initsync's SeccompFD message
 * (the frame, then one byte carrying the fd), which answers SeccompDone
 * once the config's listener has it. */
static void load_seccomp(int fd, int sock)
{
	const unsigned char seccomp_fd[5] = { 0, 0, 0, 1, CORRAL_INITSYNC_SECCOMP_FD };
	unsigned char done[5];
	struct stat st;
	uint32_t flags;
	char *buf;
	size_t n;
	long listener;

	errno = 0;
	if (fstat(fd, &st) < 0 || st.st_size < (off_t)(sizeof(flags) + sizeof(struct sock_filter)) ||
	    (st.st_size - sizeof(flags)) % sizeof(struct sock_filter) != 0 ||
	    (st.st_size - sizeof(flags)) / sizeof(struct sock_filter) > BPF_MAXINSNS)
		wait_fail(-1, "seccomp", "read the seccomp filter", NULL, errno ? errno : EINVAL);
	buf = malloc((size_t)st.st_size);
	if (buf == NULL || pread(fd, buf, (size_t)st.st_size, 0) != st.st_size)
		wait_fail(-1, "seccomp", "read the seccomp filter", NULL, errno ? errno : EIO);
	close(fd);
	memcpy(&flags, buf, sizeof(flags));
	n = ((size_t)st.st_size - sizeof(flags)) / sizeof(struct sock_filter);
	listener = load_filter(flags, (const struct sock_filter *)(buf + sizeof(flags)), (unsigned short)n);
	if (listener < 0)
		wait_fail(-1, "seccomp", "load seccomp filter", NULL, errno);
	free(buf);
	if (!(flags & SECCOMP_FILTER_FLAG_NEW_LISTENER))
		return;

	char one = 0;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &one, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	int lfd = (int)listener;

	memset(cbuf, 0, sizeof(cbuf));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &lfd, sizeof(int));
	if (write_all(sock, seccomp_fd, sizeof(seccomp_fd)) < 0)
		wait_fail(-1, "seccomp", "send the notify listener to the runtime", NULL, errno);
	while (sendmsg(sock, &mh, 0) < 0)
		if (errno != EINTR)
			wait_fail(-1, "seccomp", "send the notify listener to the runtime", NULL, errno);
	close(lfd);
	if (read_all(sock, done, sizeof(done)) < 0)
		wait_fail(-1, "seccomp", "wait for the runtime to pass on the notify listener", NULL, errno);
	if (done[0] != 0 || done[1] != 0 || done[2] != 0 || done[3] != 1 || done[4] != CORRAL_INITSYNC_SECCOMP_DONE)
		wait_fail(-1, "seccomp", "wait for the runtime to pass on the notify listener: unexpected message", NULL,
			  EPROTO);
}

void corral_wait(const char *env)
{
	int fds[WAIT_FDS], sock, fifo_handle, procfs, fifo;
	char fdpath[32];
	struct program pr;
	/* initsync's frame of Ready: a big-endian length 1, the kind. */
	const unsigned char ready[5] = { 0, 0, 0, 1, CORRAL_INITSYNC_READY };
	struct stat want, got;

	if (parse_fds(env, fds) < 0)
		wait_fail(-1, "init", CORRAL_ENV_WAIT " is not seven file descriptors:", env, EINVAL);
	sock = fds[0];
	wait_sock = sock;
	fifo_handle = fds[1];
	procfs = fds[2];
	/* The exec made the process dumpable again: nothing in the
	 * container may read its memory or open its /proc files. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		wait_fail(-1, "init", "make the process non-dumpable: prctl(PR_SET_DUMPABLE)", NULL, errno);
	read_program(fds[3], &pr);
	write_attrs(procfs, &pr);
	/* What the fifo must be, checked once start opened it. */
	if (fstat(fifo_handle, &want) < 0)
		wait_fail(-1, "init", "stat exec fifo", NULL, errno);
	/* Before Ready: the process waits, for as long as the container
	 * stays created, under the filter its program will have. */
	if (fds[4] >= 0)
		load_seccomp(fds[4], sock);

	if (write_all(sock, ready, sizeof(ready)) < 0)
		wait_fail(-1, "init", "tell the runtime init is ready", NULL, errno);
	close(sock);
	wait_sock = -1;
	/* Blocks until start opens the fifo for reading. */
	snprintf(fdpath, sizeof(fdpath), "self/fd/%d", fifo_handle);
	fifo = openat(procfs, fdpath, O_WRONLY | (fds[6] >= 0 ? 0 : O_CLOEXEC));
	if (fifo < 0)
		wait_fail(-1, "init", "open exec fifo", NULL, errno);
	if (fstat(fifo, &got) < 0)
		wait_fail(fifo, "init", "stat exec fifo", NULL, errno);
	if (got.st_dev != want.st_dev || got.st_ino != want.st_ino || !S_ISFIFO(got.st_mode))
		wait_fail(fifo, "init", "open exec fifo: procfs gave another file than the fifo", NULL, EXDEV);
	close(fifo_handle);
	if (fds[6] >= 0)
		exec_hooks(fifo, fds[5], fds[6], procfs);
	close(procfs);
	if (write_all(fifo, "0", 1) < 0)
		wait_fail(-1, "init", "report the start on the exec fifo", NULL, errno);
	execve(pr.path, pr.argv, pr.envp);
	/* As runc says it. */
	wait_fail(fifo, "exec", "exec", pr.argv[0], errno);
}
