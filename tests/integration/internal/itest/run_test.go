package itest

import (
	"os/exec"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	r := Run(exec.Command("sh", "-c", "echo out; echo err >&2; exit 3"), 10*time.Second)
	if r.Code != 3 || r.Stdout != "out\n" || r.Stderr != "err\n" || r.Err != nil || r.Hung {
		t.Errorf("exit 3 with output: %v", r)
	}
	r = Run(exec.Command("sh", "-c", "kill -TERM $$"), 10*time.Second)
	if r.Code != -1 || r.Err != nil {
		t.Errorf("killed by a signal: %v", r)
	}
	r = Run(exec.Command("sleep", "10"), 50*time.Millisecond)
	if !r.Hung || r.Code != -1 || r.Err == nil || r.Elapsed > 5*time.Second {
		t.Errorf("outlived its timeout: %v", r)
	}
	r = Run(exec.Command("/nonexistent/corral"), 10*time.Second)
	if r.Code != -1 || r.Err == nil || r.Hung {
		t.Errorf("cannot start: %v", r)
	}
}

// A detached child that keeps the command's stdout does not keep Run
// waiting: the output is a file, not a pipe.
func TestRunDetachedChild(t *testing.T) {
	start := time.Now()
	r := Run(exec.Command("sh", "-c", "sleep 3 & echo started"), 10*time.Second)
	if r.Code != 0 || r.Stdout != "started\n" || time.Since(start) > 2*time.Second {
		t.Errorf("with a detached child: %v", r)
	}
}

func TestWaitFor(t *testing.T) {
	n := 0
	if !WaitFor(time.Second, func() bool { n++; return n == 3 }) || n != 3 {
		t.Errorf("WaitFor stopped after %d polls", n)
	}
	if WaitFor(50*time.Millisecond, func() bool { return false }) {
		t.Error("WaitFor of a condition that never holds reported success")
	}
}
