package itest

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Extra lists what b has that a has not (as many times as b has it more
// often): what a run left behind, given the lists before and after.
func Extra(a, b []string) []string {
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	var extra []string
	for _, s := range b {
		if seen[s] > 0 {
			seen[s]--
			continue
		}
		extra = append(extra, s)
	}
	return extra
}

// Diff is Extra as one line.
func Diff(a, b []string) string {
	return strings.Join(Extra(a, b), ", ")
}

// Alive reports whether pid is a live process (not a zombie).
func Alive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command, which is in parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// ListenUnix listens on a unix socket in a short directory of its own
// (socket paths are limited to 108 bytes), both removed when the test
// ends.
func ListenUnix(t testing.TB) *net.UnixListener {
	t.Helper()
	dir, err := os.MkdirTemp("", "corral-sock-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, "s"), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// RecvFD accepts one connection on l within timeout and receives the fd
// sent over it with SCM_RIGHTS, as the console and pidfd sockets do, and
// the message that came with it.
func RecvFD(t testing.TB, l *net.UnixListener, timeout time.Duration) (*os.File, string) {
	t.Helper()
	l.SetDeadline(time.Now().Add(timeout))
	conn, err := l.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(OneFD(t, oob[:oobn])), string(buf[:n])), string(buf[:n])
}

// OneFD returns the one fd that oob, the control data of a message,
// carries with SCM_RIGHTS.
func OneFD(t testing.TB, oob []byte) int {
	t.Helper()
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control messages: %v %v", msgs, err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("fds: %v %v", fds, err)
	}
	return fds[0]
}

// EditSpec rewrites the config.json of bundle dir through edit.
func EditSpec(t testing.TB, dir string, edit func(*specs.Spec)) {
	t.Helper()
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	edit(&s)
	if b, err = json.MarshalIndent(&s, "", "\t"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// OpenFDs lists the open fds of this process, "fd->target", sorted: what
// a test compares before and after to find the fds it left open.
func OpenFDs(t testing.TB) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		// The directory ReadDir read is closed by now: no target.
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil {
			out = append(out, e.Name()+"->"+l)
		}
	}
	sort.Strings(out)
	return out
}

// InstallSharedLibs copies into rootfs the dynamic loader and the
// libraries this (cgo) test binary needs to run there: the binary a
// test's container runs as init execs itself into its wait mode, which
// a dynamically linked binary cannot without them.
func InstallSharedLibs(t testing.TB, rootfs string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ldd", exe).Output()
	if err != nil {
		t.Fatalf("ldd %s: %v", exe, err)
	}
	for _, f := range strings.Fields(string(out)) {
		if !strings.HasPrefix(f, "/") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(rootfs, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}
