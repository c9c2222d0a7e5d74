/*
 * The bootstrap message: what the runtime tells its re-executed child to do
 * before the Go runtime starts. Its Go encoder is
 * libcontainer/internal/bootstrap; the two must agree on every constant.
 *
 * Layout (native endian):
 *   u32 magic, u32 total length (header included, at most BOOTSTRAP_MAX)
 *   records: u16 type, u16 value length, value bytes (no padding)
 */
#ifndef CORRAL_BOOTSTRAP_H
#define CORRAL_BOOTSTRAP_H

#include <stddef.h>
#include <stdint.h>

#define BOOTSTRAP_MAGIC 0x31524c43u /* "CLR1" */
#define BOOTSTRAP_HEADER 8
#define BOOTSTRAP_MAX 65536
#define BOOTSTRAP_MAX_JOIN 16
#define BOOTSTRAP_MAX_CGROUPS 32
#define BOOTSTRAP_MAX_PATH 4095

/* Record types. */
#define REC_UNSHARE 1 /* u32: CLONE_NEW* flags to unshare */
#define REC_JOIN 2    /* u32 nstype, s32 fd: a namespace to setns(2) into */
#define REC_TIMENS 3  /* u8 1: the runtime writes the new time namespace's offsets (SYNC_TIMENS) */
#define REC_FORK 4    /* u8: fork so the process is inside the new pid or time namespace */
#define REC_ROOT 5    /* u8: become uid/gid 0 of the user namespace once joined */
#define REC_CGROUP 6  /* a cgroup v1 "tasks" file to write "0" to, before anything else */

/* Messages on the socket between the runtime and the bootstrap: u32 type,
 * s32 value; an error is followed by value bytes of text. */
#define SYNC_USERMAP 1     /* child asks the runtime to write its id maps */
#define SYNC_USERMAP_ACK 2 /* runtime: maps written */
#define SYNC_PID 3         /* value: the pid that runs Go's init, in the runtime's pid namespace */
#define SYNC_ERROR 4       /* value: length of the text that follows */
#define SYNC_TIMENS 5      /* child asks the runtime to write its time namespace's offsets */
#define SYNC_TIMENS_ACK 6  /* runtime: offsets written */

/* The runtime starts its children with the arguments {name, "init",
 * marker} and the marker's variable; the constructor acts only on both
 * together (libcontainer/internal/bootstrap: Args, Marker). */
#define CORRAL_ARG_INIT "init"
#define CORRAL_MARK_BOOTSTRAP "--corral-bootstrap"
#define CORRAL_MARK_USERNS_HOLDER "--corral-userns-holder"
#define CORRAL_ENV_BOOTSTRAP "_CORRAL_BOOTSTRAP"
#define CORRAL_ENV_FDS "_CORRAL_BOOTSTRAP_FDS" /* fds 0 to n-1 are the runtime's */
#define CORRAL_MARK_WAIT "--corral-wait"
#define CORRAL_ENV_WAIT "_CORRAL_WAIT" /* "sock,fifo,procfs,program,filter,exe,hooks" fds of init's wait mode */
#define CORRAL_MARK_HOOKS "--corral-hooks"
#define CORRAL_ENV_HOOKS "_CORRAL_HOOKS" /* "fifo,hooks,procfs" fds of init's hooks mode */
/* initsync's kinds the wait mode sends or reads (libcontainer/internal/initsync). */
#define CORRAL_INITSYNC_READY 4
#define CORRAL_INITSYNC_ERROR 5
#define CORRAL_INITSYNC_SECCOMP_FD 6
#define CORRAL_INITSYNC_SECCOMP_DONE 7
#define CORRAL_ENV_USERNS_HOLDER "_CORRAL_USERNS_HOLDER"

struct bootstrap {
	uint32_t unshare;
	int njoin;
	struct {
		uint32_t type;
		int32_t fd;
	} join[BOOTSTRAP_MAX_JOIN];
	int timens;
	int fork;
	int root;
	int ncgroup;
	/* Point into the message: not NUL-terminated. */
	struct {
		const uint8_t *path;
		uint16_t len;
	} cgroup[BOOTSTRAP_MAX_CGROUPS];
};

/*
 * bootstrap_parse decodes buf[0:len] into b. It returns 0, or -1 with a
 * message in err; it never reads outside buf.
 */
/* corral_wait is init's wait mode (wait.c): it does not return. */
void corral_wait(const char *env);
/* wait_send_error sends initsync's Error message on sock (wait.c). */
void wait_send_error(int sock, const char *step, const char *msg, int err);

int bootstrap_parse(const uint8_t *buf, size_t len, struct bootstrap *b, char *err, size_t errlen);

#endif
