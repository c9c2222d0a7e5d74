/*
 * The part of a container's bootstrap that must run before the Go runtime
 * starts threads: setns(2) into a user, mount or time namespace and
 * unshare(2) of a user namespace are refused to multi-threaded processes.
 * It joins and creates the namespaces the bootstrap message names, and
 * forks once when the process must be inside a new pid or time namespace.
 * Everything else is done in Go.
 *
 * It acts only in a process the runtime started for it: with the
 * arguments {name, "init", marker} and the marker's variable
 * (_CORRAL_BOOTSTRAP, _CORRAL_USERNS_HOLDER). A program that imports this
 * package and inherited a variable runs as if it had not; one without
 * them pays for two getenv calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bootstrap.h"
#include "common.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static int sync_fd = -1;

static void send_sync(uint32_t type, int32_t value)
{
	struct {
		uint32_t type;
		int32_t value;
	} m = { type, value };

	if (write_all(sync_fd, &m, sizeof(m)) < 0)
		_exit(1);
}

/* bail reports a failure to the runtime, which turns it into the error of
 * the operation, and exits. Every message names the step and its object. */
static void __attribute__((noreturn, format(printf, 1, 2))) bail(const char *fmt, ...)
{
	char msg[512];
	int saved = errno, n;
	va_list ap;

	va_start(ap, fmt);
	errno = saved;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n >= (int)sizeof(msg))
		n = sizeof(msg) - 1;
	if (sync_fd >= 0) {
		send_sync(SYNC_ERROR, n);
		if (write_all(sync_fd, msg, (size_t)n) < 0) {
			/* The runtime is gone; so are we. */
		}
	} else {
		fprintf(stderr, "corral bootstrap: %s\n", msg);
	}
	_exit(1);
}

static const char *ns_name(uint32_t type)
{
	switch (type) {
	case CLONE_NEWUSER:
		return "user";
	case CLONE_NEWNS:
		return "mnt";
	case CLONE_NEWPID:
		return "pid";
	case CLONE_NEWNET:
		return "net";
	case CLONE_NEWIPC:
		return "ipc";
	case CLONE_NEWUTS:
		return "uts";
	case CLONE_NEWCGROUP:
		return "cgroup";
	case CLONE_NEWTIME:
		return "time";
	}
	return "unknown";
}

static void set_non_dumpable(void)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		bail("make the process non-dumpable: prctl(PR_SET_DUMPABLE): %m");
}

static void read_bootstrap(struct bootstrap *b)
{
	static uint8_t buf[BOOTSTRAP_MAX];
	char err[256];
	uint32_t len;

	if (read_all(sync_fd, buf, BOOTSTRAP_HEADER) < 0)
		bail("read bootstrap header: %m");
	memcpy(&len, buf + 4, sizeof(len));
	if (len < BOOTSTRAP_HEADER || len > BOOTSTRAP_MAX)
		bail("bootstrap: message length %u out of range", len);
	if (read_all(sync_fd, buf + BOOTSTRAP_HEADER, len - BOOTSTRAP_HEADER) < 0)
		bail("read bootstrap message: %m");
	if (bootstrap_parse(buf, len, b, err, sizeof(err)) < 0)
		bail("%s", err);
}

/* join_cgroups moves this process, still single-threaded and in the
 * runtime's namespaces, into the container's cgroup v1 hierarchies. A
 * thread that writes "0" to a "tasks" file moves only itself, which the
 * kernel does without the global lock whose first use costs an RCU grace
 * period (10-20 ms); every process forked from here inherits them. */
static void join_cgroups(const struct bootstrap *b)
{
	char path[BOOTSTRAP_MAX_PATH + 1];

	for (int i = 0; i < b->ncgroup; i++) {
		int fd;

		memcpy(path, b->cgroup[i].path, b->cgroup[i].len);
		path[b->cgroup[i].len] = '\0';
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			bail("join cgroup %s: %m", path);
		if (write(fd, "0", 1) != 1)
			bail("join cgroup %s: %m", path);
		close(fd);
	}
}

/* owned_by reports whether the namespace fd belongs to the user namespace
 * userns. A namespace whose owner we may not even name (NS_GET_USERNS
 * says EPERM: an ancestor of ours) is not. */
static int owned_by(int fd, int userns, uint32_t type)
{
	struct stat a, b;
	int owner = ioctl(fd, NS_GET_USERNS);
	int same;

	if (owner < 0)
		return 0;
	if (fstat(owner, &a) < 0 || fstat(userns, &b) < 0)
		bail("join %s namespace: find its owner: %m", ns_name(type));
	same = a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	close(owner);
	return same;
}

static void join(const struct bootstrap *b, int i)
{
	if (setns(b->join[i].fd, (int)b->join[i].type) < 0)
		bail("join %s namespace (fd %d): %m", ns_name(b->join[i].type), b->join[i].fd);
	close(b->join[i].fd);
}

/* join_namespaces joins as runc does: with a user namespace to join, first
 * the namespaces that it does not own (a host network namespace, say), on
 * the runtime's privileges, which setns(2) into the user namespace takes
 * away; then the user namespace; then the rest, which its root may join. */
static void join_namespaces(const struct bootstrap *b)
{
	int done[BOOTSTRAP_MAX_JOIN] = { 0 };
	int user = -1;

	for (int i = 0; i < b->njoin; i++)
		if (b->join[i].type == CLONE_NEWUSER)
			user = i;
	if (user >= 0) {
		for (int i = 0; i < b->njoin; i++) {
			if (i != user && !owned_by(b->join[i].fd, b->join[user].fd, b->join[i].type)) {
				join(b, i);
				done[i] = 1;
			}
		}
		join(b, user);
		done[user] = 1;
	}
	for (int i = 0; i < b->njoin; i++)
		if (!done[i])
			join(b, i);
}

#ifdef CORRAL_MUSL
#include <pthread.h>

/* musl keeps the thread's id in its thread descriptor, at this offset on
 * x86_64, and trusts it: __synccall, which setresuid(2) and friends use
 * to change every thread's credentials, and raise(3) send their signals
 * with tkill(2) to that id. A child made by clone(2) rather than by
 * musl's fork(3) inherits its parent's id there; the Go runtime's
 * credential change in init would then signal the exited bootstrap's id
 * (or whatever process has it since) and leave its other threads as
 * root. fork(3) cannot make the runtime the parent (CLONE_PARENT), so
 * the child sets the id itself, at an offset checked in the parent. */
#ifndef __x86_64__
#error "the bootstrap knows where musl keeps the thread id on x86_64 only: build with glibc"
#endif
#define MUSL_TID_OFFSET 48

static int *libc_tid(void)
{
	int *tid = (int *)((char *)pthread_self() + MUSL_TID_OFFSET);

	if (*tid != (int)syscall(SYS_gettid))
		bail("musl's thread descriptor is not laid out as the bootstrap expects: build corral with CORRAL_LIBC=glibc");
	return tid;
}
#else
static int *libc_tid(void)
{
	return NULL;
}
#endif

/* fork_into_namespaces makes a child that is the runtime's own child
 * (CLONE_PARENT), so that the runtime waits for it directly and no
 * intermediate process stays behind. Returns in the child only. */
static void fork_into_namespaces(void)
{
	int *tid = libc_tid();
	long pid = clone_parent();

	if (pid < 0)
		bail("fork into the new namespaces: clone: %m");
	if (pid > 0) {
		send_sync(SYNC_PID, (int32_t)pid);
		_exit(0);
	}
	if (tid != NULL)
		*tid = (int)syscall(SYS_gettid);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		_exit(1);
}

/* started_as reports whether the arguments of this process are exactly
 * {name, "init", marker}. They come from /proc/self/cmdline: glibc passes
 * argc and argv to constructors, but musl passes nothing, and the shipped
 * binary is built with musl. Only a process that has one of the variables
 * pays for the read. Without a readable /proc the answer is no: the
 * runtime itself starts its children through /proc/self/fd. */
static int started_as_at(int dir, const char *cmdline, const char *marker)
{
	/* The end of the name, then the two arguments: "\0init\0marker\0". */
	char want[64], tail[sizeof(want)], buf[512];
	size_t mlen = strlen(marker), wlen = 1 + sizeof(CORRAL_ARG_INIT) + mlen + 1;
	size_t total = 0;
	int fd, nuls = 0;
	ssize_t n;

	if (wlen > sizeof(want))
		return 0;
	want[0] = '\0';
	memcpy(want + 1, CORRAL_ARG_INIT, sizeof(CORRAL_ARG_INIT));
	memcpy(want + 1 + sizeof(CORRAL_ARG_INIT), marker, mlen + 1);
	memset(tail, 'x', sizeof(tail));

	fd = openat(dir, cmdline, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	/* Keep the last wlen bytes and count the NULs: three, one after
	 * each argument, and the last ones as wanted. */
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (ssize_t i = 0; i < n; i++)
			nuls += buf[i] == '\0';
		if (nuls > 3)
			break;
		if ((size_t)n >= wlen) {
			memcpy(tail, buf + n - wlen, wlen);
		} else {
			memmove(tail, tail + n, wlen - (size_t)n);
			memcpy(tail + wlen - (size_t)n, buf, (size_t)n);
		}
		total += (size_t)n;
	}
	close(fd);
	return n == 0 && nuls == 3 && total >= wlen && memcmp(tail, want, wlen) == 0;
}

static int started_as(const char *marker)
{
	return started_as_at(AT_FDCWD, "/proc/self/cmdline", marker);
}

/* hold_user_namespace keeps a process in a user namespace the runtime
 * made (for the id mapping of an idmapped mount) until its stdin closes:
 * the runtime opens /proc/<pid>/ns/user meanwhile. */
static void hold_user_namespace(void)
{
	char c;

	while (read(0, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* create_user_namespace makes the new user namespace and has the runtime
 * map it: until then the process has no ids in it. */
static void create_user_namespace(void)
{
	uint32_t ack[2];

	if (unshare(CLONE_NEWUSER) < 0)
		bail("create user namespace: unshare: %m");
	send_sync(SYNC_USERMAP, 0);
	if (read_all(sync_fd, ack, sizeof(ack)) < 0 || ack[0] != SYNC_USERMAP_ACK)
		bail("create user namespace: the runtime did not write the id mappings");
}

/* become_root makes the process uid and gid 0 of its user namespace. The
 * change of ids clears the parent-death signal, which is set again: with
 * no fork to come, this process is the container's init or the exec'd
 * process's setup, and must die with the runtime until it is ready. */
static void become_root(pid_t parent)
{
	if (setresgid(0, 0, 0) < 0)
		bail("become gid 0 of the user namespace: setresgid: %m");
	if (setresuid(0, 0, 0) < 0)
		bail("become uid 0 of the user namespace: setresuid: %m");
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		bail("restore the parent-death signal: prctl(PR_SET_PDEATHSIG): %m");
	/* The runtime may have died before the signal was set again. */
	if (getppid() != parent)
		_exit(1);
}

/* time_offsets has the runtime write the offsets of the new time
 * namespace, before any process is in it: the file belongs to the
 * runtime's root, which a process in a new user namespace is not. */
static void time_offsets(void)
{
	uint32_t ack[2];

	send_sync(SYNC_TIMENS, 0);
	if (read_all(sync_fd, ack, sizeof(ack)) < 0 || ack[0] != SYNC_TIMENS_ACK)
		bail("set time namespace offsets: the runtime did not write them");
}

/* close_inherited closes every fd from the runtime's count on: fds that
 * whoever started the runtime had open without close-on-exec, which
 * os/exec passes on. The container's processes could reach them through
 * /proc/<pid>/fd until init execs, so they go before anything is joined. */
static void close_inherited(void)
{
	const char *env = getenv(CORRAL_ENV_FDS);
	char *end;
	long n;

	errno = 0;
	n = env != NULL ? strtol(env, &end, 10) : -1;
	if (env == NULL || errno != 0 || *end != '\0' || end == env || n <= sync_fd || n > 1 << 20)
		bail("%s=%s is not a count of the runtime's fds", CORRAL_ENV_FDS, env != NULL ? env : "(unset)");
	if (close_from((int)n) < 0)
		bail("close the fds inherited from the runtime's caller (from fd %ld): %m", n);
}

static void bootstrap(const char *env)
{
	struct bootstrap b;
	const char *phases = getenv("CORRAL_PHASES");
	char *end;
	long fd;
	uint32_t rest;
	pid_t parent = getppid();

	errno = 0;
	fd = strtol(env, &end, 10);
	if (errno != 0 || *end != '\0' || end == env || fd < 3 || fd > 1 << 20)
		bail("_CORRAL_BOOTSTRAP=%s is not a file descriptor", env);
	sync_fd = (int)fd;
	close_inherited();
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		bail("set the parent-death signal: prctl(PR_SET_PDEATHSIG): %m");
	if (phases != NULL && phases[0] != '\0')
		phase_fd = open(phases, O_WRONLY | O_APPEND | O_CLOEXEC);
	mark("boot:start");

	read_bootstrap(&b);
	mark("boot:read");
	/* Until it execs, this process holds the runtime's memory and fds:
	 * nothing in the container may ptrace it or open its /proc files.
	 * A process creating a user namespace stays dumpable until its id
	 * maps and time offsets are written, so that a runtime without root
	 * may write them; nothing else is in that namespace yet. */
	if (!(b.unshare & CLONE_NEWUSER))
		set_non_dumpable();
	join_cgroups(&b);
	mark("boot:cgroups-joined");
	join_namespaces(&b);
	if (b.unshare & CLONE_NEWUSER)
		create_user_namespace();
	if (b.root)
		become_root(parent);
	rest = b.unshare & ~(uint32_t)CLONE_NEWUSER;
	if (rest != 0 && unshare((int)rest) < 0)
		bail("create namespaces %#x: unshare: %m", rest);
	if (b.timens)
		time_offsets();
	if (b.unshare & CLONE_NEWUSER)
		set_non_dumpable();
	mark("boot:unshared");

	if (b.fork) {
		fork_into_namespaces();
		mark("boot:forked");
	} else {
		send_sync(SYNC_PID, (int32_t)getpid());
	}
	if (phase_fd >= 0)
		close(phase_fd);
	phase_fd = -1;
}

void corral_nsenter(void)
{
	const char *env;

	if ((env = getenv(CORRAL_ENV_BOOTSTRAP)) != NULL && started_as(CORRAL_MARK_BOOTSTRAP)) {
		bootstrap(env);
		return;
	}
	if (getenv(CORRAL_ENV_USERNS_HOLDER) != NULL && started_as(CORRAL_MARK_USERNS_HOLDER))
		hold_user_namespace();
	/* init's hooks mode, before Go starts threads: the exec made the
	 * process dumpable again. Its marker is read through the procfs its
	 * variable names last ("fifo,hooks,procfs"), as the wait mode's;
	 * Go fails if the process is still dumpable. */
	if ((env = getenv(CORRAL_ENV_HOOKS)) != NULL) {
		const char *comma = strrchr(env, ',');
		long procfs = comma != NULL ? strtol(comma + 1, NULL, 10) : -1;

		if (procfs >= 3 && started_as_at((int)procfs, "self/cmdline", CORRAL_MARK_HOOKS))
			prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	}
	/* init's wait mode reads its arguments through the procfs it was
	 * given: the container's /proc may be missing. */
	if ((env = getenv(CORRAL_ENV_WAIT)) != NULL) {
		const char *comma = strchr(env, ',');
		long procfs = comma != NULL && (comma = strchr(comma + 1, ',')) != NULL ? strtol(comma + 1, NULL, 10) : -1;

		if (procfs >= 3 && started_as_at((int)procfs, "self/cmdline", CORRAL_MARK_WAIT))
			corral_wait(env);
	}
}
