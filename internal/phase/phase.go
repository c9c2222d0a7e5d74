// Package phase records when each phase of a container start happens, to
// see where the time goes. A program that calls Enable with
// CORRAL_PHASES=<file> in its environment appends "<pid> <monotonic µs>
// <phase>" to that file at every Mark; otherwise a Mark costs one atomic
// load.
//
// Only the corral command calls Enable, and the container's init when the
// runtime passed the variable on: a program that embeds libcontainer
// records nothing, whatever its environment holds.
package phase

import (
	"os"
	"strconv"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Env names the variable that turns marking on; the runtime passes it on
// to init.
const Env = "CORRAL_PHASES"

// recorder is where marks go once enabled.
type recorder struct {
	f    *os.File
	path string
}

var rec atomic.Pointer[recorder]

// Enable starts recording if the environment names a file (Env) that
// can be opened. It is called once, at the start of main or of init.
func Enable() {
	path := os.Getenv(Env)
	if path == "" || rec.Load() != nil {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return
	}
	if !rec.CompareAndSwap(nil, &recorder{f: f, path: path}) {
		f.Close()
	}
}

// Enabled reports whether phases are being recorded.
func Enabled() bool { return rec.Load() != nil }

// Path is the file phases go to, for passing on to a child; "" when not
// recording.
func Path() string {
	if r := rec.Load(); r != nil {
		return r.path
	}
	return ""
}

// Mark records that the named phase was reached now.
func Mark(name string) {
	r := rec.Load()
	if r == nil {
		return
	}
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	us := int64(ts.Sec)*1_000_000 + int64(ts.Nsec)/1000
	line := strconv.Itoa(os.Getpid()) + " " + strconv.FormatInt(us, 10) + " " + name + "\n"
	r.f.WriteString(line)
}
