// Package phase records when each phase of a container start happens, to
// see where the time goes. With CORRAL_PHASES=<file> in the runtime's
// environment, every Mark appends "<pid> <monotonic µs> <phase>" to that
// file, from the runtime and from the container's init alike; without it
// a Mark costs one comparison.
package phase

import (
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// Env names the variable that turns marking on; the runtime passes it on
// to init.
const Env = "CORRAL_PHASES"

var file = sync.OnceValue(func() *os.File {
	path := os.Getenv(Env)
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil
	}
	return f
})

// Enabled reports whether phases are being recorded.
func Enabled() bool { return file() != nil }

// Path is the file phases go to, for passing on to a child.
func Path() string { return os.Getenv(Env) }

// Mark records that the named phase was reached now.
func Mark(name string) {
	f := file()
	if f == nil {
		return
	}
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	us := int64(ts.Sec)*1_000_000 + int64(ts.Nsec)/1000
	line := strconv.Itoa(os.Getpid()) + " " + strconv.FormatInt(us, 10) + " " + name + "\n"
	f.WriteString(line)
}
