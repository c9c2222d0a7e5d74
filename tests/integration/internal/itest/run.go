package itest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Result is what one command did.
type Result struct {
	// Args are the command's arguments, its name first.
	Args           []string
	Stdout, Stderr string
	// Code is the exit status, -1 when the command did not run to its
	// end: Err says why.
	Code int
	// Err is why the command did not run to its end: it did not start,
	// or it outlived its timeout (Hung) and was killed.
	Err error
	// Hung is set when the command outlived its timeout.
	Hung    bool
	Elapsed time.Duration
}

// String shows the command, how it ended and its output, for failure
// messages.
func (r Result) String() string {
	s := fmt.Sprintf("%q: exit %d after %v", r.Args, r.Code, r.Elapsed.Round(time.Millisecond))
	if r.Hung {
		s += " (HUNG: killed at its timeout)"
	} else if r.Err != nil {
		s += fmt.Sprintf(" (%v)", r.Err)
	}
	return s + fmt.Sprintf("\nstdout: %s\nstderr: %s", r.Stdout, r.Stderr)
}

// Run runs cmd to its end, killing it if it outlives timeout. Its stdout
// and stderr, unless the caller set them, are files, never pipes: a
// detached container or an engine's helper (a shim, conmon) inherits
// them, and a pipe it held open would keep Wait waiting for its end. The
// files may be written by anyone, so that a process of the container
// under another uid can reopen them through /proc/self/fd, as it can its
// terminal.
func Run(cmd *exec.Cmd, timeout time.Duration) Result {
	r := Result{Args: cmd.Args, Code: -1}
	out, err := newOutput()
	if err != nil {
		r.Err = err
		return r
	}
	defer out.remove()
	if cmd.Stdout == nil {
		cmd.Stdout = out.stdout
	}
	if cmd.Stderr == nil {
		cmd.Stderr = out.stderr
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		r.Err = err
		return r
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err = <-done:
	case <-timer.C:
		cmd.Process.Kill()
		r.Hung = true
		err = <-done
	}
	r.Elapsed = time.Since(start)
	var ee *exec.ExitError
	switch {
	case r.Hung:
		r.Err = fmt.Errorf("killed at its timeout of %v", timeout)
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	case err != nil:
		r.Err = err
	default:
		r.Code = 0
	}
	r.Stdout, r.Stderr = out.read()
	return r
}

// output holds the stdout and stderr files of one command.
type output struct {
	dir            string
	stdout, stderr *os.File
}

func newOutput() (*output, error) {
	dir, err := os.MkdirTemp("", "corral-itest-out-")
	if err != nil {
		return nil, err
	}
	o := &output{dir: dir}
	if o.stdout, err = createShared(filepath.Join(dir, "stdout")); err == nil {
		o.stderr, err = createShared(filepath.Join(dir, "stderr"))
	}
	if err != nil {
		o.remove()
		return nil, err
	}
	return o, nil
}

// createShared creates a file anyone may write, whatever the umask.
func createShared(path string) (*os.File, error) {
	f, err := os.Create(path)
	if err == nil {
		err = f.Chmod(0o666)
	}
	return f, err
}

func (o *output) read() (string, string) {
	a, _ := os.ReadFile(o.stdout.Name())
	b, _ := os.ReadFile(o.stderr.Name())
	return string(a), string(b)
}

func (o *output) remove() {
	if o.stdout != nil {
		o.stdout.Close()
	}
	if o.stderr != nil {
		o.stderr.Close()
	}
	os.RemoveAll(o.dir)
}

// WaitFor polls cond every 20 ms until it holds, and reports whether it
// did before timeout passed.
func WaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ExitCode is the shell's view of how a process ended: its exit status,
// or 128 plus the signal that killed it.
func ExitCode(st *os.ProcessState) int {
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return st.ExitCode()
}
