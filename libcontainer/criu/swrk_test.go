package criu

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/checkpoint-restore/go-criu/v8/rpc"
	"golang.org/x/sys/unix"
)

// fakeEnv makes the test binary a fake `criu swrk` that plays the
// scenario it names, so that the RPC plumbing is tested without criu.
const fakeEnv = "CORRAL_FAKE_CRIU"

func TestMain(m *testing.M) {
	if scenario := os.Getenv(fakeEnv); scenario != "" {
		if err := fakeCriu(scenario); err != nil {
			fmt.Fprintln(os.Stderr, "fake criu:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fakeCriu answers one request on fd 3 as the scenario says.
func fakeCriu(scenario string) error {
	if len(os.Args) != 3 || os.Args[1] != "swrk" || os.Args[2] != "3" {
		return fmt.Errorf("unexpected arguments %q", os.Args)
	}
	sock := os.NewFile(3, "swrk")
	buf := make([]byte, 4096)
	n, err := sock.Read(buf)
	if err != nil {
		return err
	}
	var req rpc.CriuReq
	if err := req.UnmarshalVT(buf[:n]); err != nil {
		return err
	}
	reply := func(resp *rpc.CriuResp, fd int) error {
		b, err := resp.MarshalVT()
		if err != nil {
			return err
		}
		var oob []byte
		if fd >= 0 {
			oob = unix.UnixRights(fd)
		}
		return unix.Sendmsg(3, b, oob, nil, 0)
	}
	switch scenario {
	case "version-3.10":
		return reply(&rpc.CriuResp{Type: rpc.CriuReqType_VERSION.Enum(), Success: new(true),
			Version: &rpc.CriuVersion{MajorNumber: new(int32(3)), MinorNumber: new(int32(10))}}, -1)
	case "version-4.1":
		return reply(&rpc.CriuResp{Type: rpc.CriuReqType_VERSION.Enum(), Success: new(true),
			Version: &rpc.CriuVersion{MajorNumber: new(int32(4)), MinorNumber: new(int32(1)), Sublevel: new(int32(1))}}, -1)
	case "notify":
		// The inherited file (fd 4) goes back with the notification.
		if !req.GetOpts().GetNotifyScripts() {
			return errors.New("notify scripts are off")
		}
		err := reply(&rpc.CriuResp{Type: rpc.CriuReqType_NOTIFY.Enum(), Success: new(true),
			Notify: &rpc.CriuNotify{Script: new("orphan-pts-master"), Pid: new(int32(42))}}, 4)
		if err != nil {
			return err
		}
		if n, err = sock.Read(buf); err != nil {
			return err
		}
		var ack rpc.CriuReq
		if err := ack.UnmarshalVT(buf[:n]); err != nil {
			return err
		}
		if ack.GetType() != rpc.CriuReqType_NOTIFY || !ack.GetNotifySuccess() {
			return fmt.Errorf("bad notify answer %v", &ack)
		}
		return reply(&rpc.CriuResp{Type: req.GetType().Enum(), Success: new(true)}, -1)
	case "features":
		// Only the features asked about are answered.
		f := req.GetFeatures()
		if req.GetType() != rpc.CriuReqType_FEATURE_CHECK || f == nil || !f.GetMemTrack() || f.LazyPages != nil || f.PidfdStore != nil {
			return fmt.Errorf("bad feature check %v", &req)
		}
		return reply(&rpc.CriuResp{Type: rpc.CriuReqType_FEATURE_CHECK.Enum(), Success: new(true),
			Features: &rpc.CriuFeatures{MemTrack: new(false)}}, -1)
	case "fail":
		return reply(&rpc.CriuResp{Type: req.GetType().Enum(), Success: new(false),
			CrErrmsg: new("Error (criu/util.c:1533): rlimit: Can't setup RLIMIT_NOFILE for self"), CrErrno: new(int32(unix.EIO))}, -1)
	case "die":
		fmt.Fprintln(os.Stderr, "cannot run on this kernel")
		os.Exit(3)
	}
	return fmt.Errorf("unknown scenario %q", scenario)
}

// fake returns a Criu that runs the test binary as the scenario's fake.
func fake(t *testing.T, scenario string) *Criu {
	t.Setenv(fakeEnv, scenario)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return New(exe)
}

func TestVersion(t *testing.T) {
	c := fake(t, "version-4.1")
	v, err := c.Version()
	if err != nil {
		t.Fatal(err)
	}
	if v.Int() != 40101 || v.String() != "4.1.1" {
		t.Errorf("version %v (%d)", v, v.Int())
	}
	if err := c.CheckVersion(MinVersion); err != nil {
		t.Error(err)
	}
}

func TestTooOld(t *testing.T) {
	err := fake(t, "version-3.10").CheckVersion(MinVersion)
	if !errors.Is(err, ErrTooOld) {
		t.Fatalf("got %v, want ErrTooOld", err)
	}
	if !strings.Contains(err.Error(), "criu 3.11 or newer is needed, found 3.10") {
		t.Errorf("error %q does not name the versions", err)
	}
}

func TestNotFound(t *testing.T) {
	for _, path := range []string{"/nonexistent/criu", "no-such-criu-in-path"} {
		_, err := New(path).Version()
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: got %v, want ErrNotFound", path, err)
		}
		for _, want := range []string{"criu not found", "install criu", "--criu", path} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
	}
}

// TestNotify checks that a notification reaches the callback with the fd
// criu sent along, and that the request then completes.
func TestNotify(t *testing.T) {
	c := fake(t, "notify")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	req := &Request{Type: rpc.CriuReqType_RESTORE, Opts: &rpc.CriuOpts{ImagesDirFd: new(int32(-1))}}
	if fd := req.AddFile(w); fd != 4 {
		t.Fatalf("first file is fd %d in criu, want 4", fd)
	}
	var got *Notification
	req.Notify = func(n *Notification) error {
		got = n
		return nil
	}
	if _, err := c.Do(req); err != nil {
		t.Fatal(err)
	}
	if got == nil || got.Script != "orphan-pts-master" || got.Pid != 42 || got.File == nil {
		t.Fatalf("notification %+v", got)
	}
	defer got.File.Close()
	if _, err := got.File.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := r.Read(b); err != nil || b[0] != 'x' {
		t.Errorf("the fd of the notification is not the pipe: %q %v", b, err)
	}
}

func TestFeatures(t *testing.T) {
	f, err := fake(t, "features").Features(&rpc.CriuFeatures{MemTrack: new(true)})
	if err != nil {
		t.Fatal(err)
	}
	if !f.EqualVT(&rpc.CriuFeatures{MemTrack: new(false)}) {
		t.Errorf("features %v, want memory tracking false", f)
	}
}

func TestFailure(t *testing.T) {
	_, err := fake(t, "fail").Do(&Request{Type: rpc.CriuReqType_DUMP, Opts: &rpc.CriuOpts{ImagesDirFd: new(int32(-1))}})
	var ce *Error
	if !errors.As(err, &ce) || !errors.Is(err, unix.EIO) {
		t.Fatalf("got %v, want an *Error with EIO", err)
	}
	// criu's first error line is noise it logs on every run.
	if ce.Msg != "" || !strings.HasPrefix(err.Error(), "criu dump failed") {
		t.Errorf("error %q", err)
	}
}

func TestDiesWithoutAnswer(t *testing.T) {
	_, err := fake(t, "die").Do(&Request{Type: rpc.CriuReqType_DUMP, Opts: &rpc.CriuOpts{ImagesDirFd: new(int32(-1))}})
	if err == nil || !strings.Contains(err.Error(), "cannot run on this kernel") || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("got %v, want criu's last words and exit status", err)
	}
}

func TestLogErrors(t *testing.T) {
	log := t.TempDir() + "/dump.log"
	content := `(00.000001) Version: 4.1.1
(00.030000) Error (criu/util.c:1533): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted
(00.044857) Error (criu/files-reg.c:1790): Can't lookup mount=24 for fd=0 path=/dev/null
(00.044870) Error (criu/cr-dump.c:1681): Dump files (pid: 8682) failed with -1
(00.115297) Error (criu/cr-dump.c:2111): Dumping FAILED.
`
	if err := os.WriteFile(log, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	got := LogErrors(log, 2)
	want := "Error (criu/cr-dump.c:1681): Dump files (pid: 8682) failed with -1; Error (criu/cr-dump.c:2111): Dumping FAILED."
	if got != want {
		t.Errorf("LogErrors:\n got %q\nwant %q", got, want)
	}
	if LogErrors(log+".missing", 3) != "" {
		t.Error("LogErrors of a missing log is not empty")
	}
}

// FuzzLogErrors feeds LogErrors any log: it never fails, and keeps only
// error lines.
func FuzzLogErrors(f *testing.F) {
	f.Add("(00.1) Error (criu/mount.c:753): mnt: 86:./proc/timer_list doesn't have a proper root mount\n")
	f.Add("Error (x\nError (y: RLIMIT_NOFILE\n\x00\xff")
	f.Fuzz(func(t *testing.T, content string) {
		log := t.TempDir() + "/restore.log"
		if err := os.WriteFile(log, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := LogErrors(log, 3); got != "" && !strings.HasPrefix(got, "Error (") {
			t.Errorf("LogErrors kept %q", got)
		}
	})
}
