package nsenter

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/internal/bootstrap"
	"github.com/corral-oci/corral/libcontainer/internal/initsync"
)

// childEnv makes this test binary, started again, say that the
// constructor let it through to Go, and exit.
const childEnv = "NSENTER_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Stdout.WriteString("go-main")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestConstructorNamesAreGos(t *testing.T) {
	want := []string{bootstrap.ArgInit, bootstrap.MarkBootstrap, bootstrap.MarkUsernsHolder,
		bootstrap.EnvFD, bootstrap.EnvUsernsHolder, bootstrap.MarkWait, bootstrap.EnvWait, bootstrap.EnvFDs,
		bootstrap.MarkHooks, bootstrap.EnvHooks}
	if got := cNames(); !slices.Equal(got, want) {
		t.Errorf("bootstrap.h has %q, internal/bootstrap %q", got, want)
	}
}

func TestWaitKindsAreInitsyncs(t *testing.T) {
	want := []int{int(initsync.Ready), int(initsync.Error), int(initsync.SeccompFD), int(initsync.SeccompDone)}
	if got := cKinds(); !slices.Equal(got, want) {
		t.Errorf("bootstrap.h's CORRAL_INITSYNC_* kinds are %v, initsync's %v", got, want)
	}
}

// TestWaitErrorIsInitsyncs reads the wait mode's Error message with
// initsync, as the runtime does.
func TestWaitErrorIsInitsyncs(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := os.NewFile(uintptr(fds[0]), "runtime")
	defer r.Close()
	defer unix.Close(fds[1])
	cSendError(fds[1], "seccomp", "load seccomp filter: invalid argument", int(unix.EINVAL))
	_, err = initsync.Recv(r)
	var ie *initsync.InitError
	if !errors.As(err, &ie) {
		t.Fatalf("got %v, want an InitError", err)
	}
	want := initsync.InitError{Step: "seccomp", Message: "load seccomp filter: invalid argument", Errno: unix.EINVAL}
	if *ie != want {
		t.Errorf("got %+v, want %+v", *ie, want)
	}
}

// start runs this binary with args and env, /dev/null as fd 3 (where the
// bootstrap's fd would be), and stdin a pipe that stays open while the
// child runs unless closeStdin: a holder waits on it. It returns what the
// child printed and how it ended.
func start(t *testing.T, args, env []string, closeStdin bool) (out, status string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if closeStdin {
		w.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.Args = args
	cmd.Env = append(env, childEnv+"=1")
	cmd.Stdin = r
	cmd.ExtraFiles = []*os.File{null}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		status = "hung"
	case err == nil:
		status = "exit 0"
	case errors.As(err, &ee):
		status = ee.String()
	default:
		t.Fatal(err)
	}
	return stdout.String(), status
}

// A program that imports nsenter and inherited the runtime's variables
// runs as it would without them: the constructor acts only on the
// arguments the runtime gives its children and the variable together.
func TestInheritedVariablesDoNothing(t *testing.T) {
	exe := os.Args[0]
	boot, holder := bootstrap.EnvFD+"=3", bootstrap.EnvUsernsHolder+"=1"
	both := []string{boot, holder}
	for _, tc := range []struct {
		name string
		args []string
		env  []string
	}{
		{"bootstrap variable", []string{exe}, []string{boot}},
		{"holder variable", []string{exe}, []string{holder}},
		{"both variables", []string{exe, "-test.v"}, both},
		{"init without marker", []string{exe, "init"}, both},
		{"extra argument", []string{exe, "init", bootstrap.MarkBootstrap, "x"}, both},
		{"holder extra argument", []string{exe, "init", bootstrap.MarkUsernsHolder, "x"}, both},
		{"marker first", []string{exe, bootstrap.MarkBootstrap, "init"}, both},
		{"name is init", []string{"init", bootstrap.MarkBootstrap}, both},
		{"marker with a suffix", []string{exe, "init", bootstrap.MarkBootstrap + "x"}, both},
		{"marker in the name", []string{"x\n" + bootstrap.MarkUsernsHolder, "init"}, both},
		{"bootstrap marker, holder variable", []string{exe, "init", bootstrap.MarkBootstrap}, []string{holder}},
		{"holder marker, bootstrap variable", []string{exe, "init", bootstrap.MarkUsernsHolder}, []string{boot}},
		{"bootstrap marker alone", []string{exe, "init", bootstrap.MarkBootstrap}, nil},
		{"holder marker alone", []string{exe, "init", bootstrap.MarkUsernsHolder}, nil},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "-"), func(t *testing.T) {
			if out, status := start(t, tc.args, tc.env, false); out != "go-main" || status != "exit 0" {
				t.Errorf("args %q, env %q: %s, printed %q; want the program to run as without them", tc.args, tc.env, status, out)
			}
		})
	}
}

// With the arguments and the variable together, the constructor acts
// and the process never reaches Go: the checks above are not vacuous.
func TestMarkedChildrenAct(t *testing.T) {
	exe := os.Args[0]
	for _, tc := range []struct {
		name   string
		args   []string
		env    []string
		status string
	}{
		// The holder waits for stdin to close, then exits 0.
		{"holder", []string{"corral-userns", "init", bootstrap.MarkUsernsHolder}, []string{bootstrap.EnvUsernsHolder + "=1"}, "exit 0"},
		{"holder without a name", []string{"", "init", bootstrap.MarkUsernsHolder}, []string{bootstrap.EnvUsernsHolder + "=1"}, "exit 0"},
		// /proc/self/cmdline is read in pieces: a long name still counts.
		{"holder with a long name", []string{strings.Repeat("n", 5000), "init", bootstrap.MarkUsernsHolder}, []string{bootstrap.EnvUsernsHolder + "=1"}, "exit 0"},
		// The bootstrap reads its message from fd 3, /dev/null here:
		// it fails and exits 1.
		{"bootstrap", []string{exe, "init", bootstrap.MarkBootstrap}, []string{bootstrap.EnvFD + "=3"}, "exit status 1"},
		{"bootstrap with the holder variable too", []string{exe, "init", bootstrap.MarkBootstrap}, []string{bootstrap.EnvFD + "=3", bootstrap.EnvUsernsHolder + "=1"}, "exit status 1"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "-"), func(t *testing.T) {
			if out, status := start(t, tc.args, tc.env, true); out != "" || status != tc.status {
				t.Errorf("args %.40q, env %q: %s, printed %q; want %s before Go", tc.args, tc.env, status, out, tc.status)
			}
		})
	}
}
