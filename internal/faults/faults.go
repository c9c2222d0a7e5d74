//go:build corral_testhooks

// Package faults lets tests stop the runtime at a named phase of an
// operation, to kill it there and check what it leaves behind.
//
// It is built only with the corral_testhooks build tag, which the
// reliability tests' binary has: the library and binary that ship know
// nothing of it (libcontainer/faults_off.go), so a program embedding
// libcontainer cannot be made to hang by a variable it inherited.
//
// With CORRAL_TEST_PAUSE_AT=<phase> in its environment, the runtime
// reaching that phase writes its pid to $CORRAL_TEST_PAUSE_FILE (if set)
// and sleeps until killed. Without the variable a phase costs one
// comparison.
package faults

import (
	"os"
	"strconv"
	"sync"
	"time"
)

var pauseAt = sync.OnceValue(func() string { return os.Getenv("CORRAL_TEST_PAUSE_AT") })

// Env returns the pause variables this process has, for a child whose
// own phases may be paused at.
func Env() []string {
	var env []string
	for _, k := range []string{"CORRAL_TEST_PAUSE_AT", "CORRAL_TEST_PAUSE_FILE"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// Point marks a phase. Phases are named "<operation>:<step>", e.g.
// "create:state-saved" or "start:cgroup-joined".
func Point(phase string) {
	if p := pauseAt(); p == "" || p != phase {
		return
	}
	if f := os.Getenv("CORRAL_TEST_PAUSE_FILE"); f != "" {
		os.WriteFile(f, []byte(strconv.Itoa(os.Getpid())), 0o600)
	}
	for {
		time.Sleep(time.Hour)
	}
}
