package nsenter

/*
#include <stdlib.h>
#include "bootstrap.h"

static const char *arg_init(void) { return CORRAL_ARG_INIT; }
static const char *mark_bootstrap(void) { return CORRAL_MARK_BOOTSTRAP; }
static const char *mark_userns_holder(void) { return CORRAL_MARK_USERNS_HOLDER; }
static const char *env_bootstrap(void) { return CORRAL_ENV_BOOTSTRAP; }
static const char *env_userns_holder(void) { return CORRAL_ENV_USERNS_HOLDER; }
static const char *mark_wait(void) { return CORRAL_MARK_WAIT; }
static const char *env_wait(void) { return CORRAL_ENV_WAIT; }
static const char *env_fds(void) { return CORRAL_ENV_FDS; }
static const char *mark_hooks(void) { return CORRAL_MARK_HOOKS; }
static const char *env_hooks(void) { return CORRAL_ENV_HOOKS; }
static int initsync_ready(void) { return CORRAL_INITSYNC_READY; }
static int initsync_error(void) { return CORRAL_INITSYNC_ERROR; }
static int initsync_seccomp_fd(void) { return CORRAL_INITSYNC_SECCOMP_FD; }
static int initsync_seccomp_done(void) { return CORRAL_INITSYNC_SECCOMP_DONE; }
*/
import "C"

import (
	"errors"
	"unsafe"
)

// parsed is the Go view of struct bootstrap, for tests of the C parser.
type parsed struct {
	Unshare uint32
	Join    [][2]int32
	Timens  bool
	Fork    bool
	Root    bool
	Cgroups []string
}

// parse runs the C parser on msg. It exists so tests can feed the parser
// every malformed message without starting a process.
func parse(msg []byte) (*parsed, error) {
	var b C.struct_bootstrap
	var errbuf [256]C.char
	p := C.CBytes(msg)
	defer C.free(p)
	if C.bootstrap_parse((*C.uint8_t)(p), C.size_t(len(msg)), &b, &errbuf[0], C.size_t(len(errbuf))) != 0 {
		return nil, errors.New(C.GoString(&errbuf[0]))
	}
	out := &parsed{
		Unshare: uint32(b.unshare),
		Timens:  b.timens != 0,
		Fork:    b.fork != 0,
		Root:    b.root != 0,
	}
	for i := 0; i < int(b.ncgroup); i++ {
		out.Cgroups = append(out.Cgroups, C.GoStringN((*C.char)(unsafe.Pointer(b.cgroup[i].path)), C.int(b.cgroup[i].len)))
	}
	for i := 0; i < int(b.njoin); i++ {
		out.Join = append(out.Join, [2]int32{int32(b.join[i]._type), int32(b.join[i].fd)})
	}
	return out, nil
}

// cNames returns the constructor's argument, markers and variables, for
// a test that they are internal/bootstrap's: argv[1], the bootstrap and
// the holder markers, the bootstrap and the holder variables.
func cNames() []string {
	return []string{
		C.GoString(C.arg_init()),
		C.GoString(C.mark_bootstrap()),
		C.GoString(C.mark_userns_holder()),
		C.GoString(C.env_bootstrap()),
		C.GoString(C.env_userns_holder()),
		C.GoString(C.mark_wait()),
		C.GoString(C.env_wait()),
		C.GoString(C.env_fds()),
		C.GoString(C.mark_hooks()),
		C.GoString(C.env_hooks()),
	}
}

// cKinds are the initsync kinds the wait mode sends or reads: Ready,
// Error, SeccompFD, SeccompDone.
func cKinds() []int {
	return []int{int(C.initsync_ready()), int(C.initsync_error()), int(C.initsync_seccomp_fd()), int(C.initsync_seccomp_done())}
}

// cSendError sends the wait mode's Error message on fd.
func cSendError(fd int, step, msg string, errno int) {
	cs, cm := C.CString(step), C.CString(msg)
	defer C.free(unsafe.Pointer(cs))
	defer C.free(unsafe.Pointer(cm))
	C.wait_send_error(C.int(fd), cs, cm, C.int(errno))
}
