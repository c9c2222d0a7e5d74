package lib

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// execIn runs args as an extra process in c and returns its output and
// exit code.
func execIn(t *testing.T, c *libcontainer.Container, args []string, opts ...runOpts) (string, int) {
	t.Helper()
	var out bytes.Buffer
	p := &libcontainer.Process{Args: args, Env: []string{"PATH=/bin:/usr/bin"}, Stdout: &out, Stderr: &out}
	for _, o := range opts {
		o(p)
	}
	if err := c.Run(p); err != nil {
		t.Fatalf("exec %q: %v", args, err)
	}
	st, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), itest.ExitCode(st)
}

func TestExecSeesTheContainer(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.Namespaces.Add(configs.NEWUSER, "")
	cfg.UIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	cfg.GIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	c, p, _ := startScript(t, cfg, `mount -t tmpfs marker /mnt 2>/dev/null; echo init > /tmp/marker; sleep 1000`)
	time.Sleep(200 * time.Millisecond)
	initPid, _ := p.Pid()
	out, code := execIn(t, c, []string{"/bin/sh", "-c", `hostname; cat /proc/1/cmdline | tr '\0' ' '; echo; ` +
		`cat /proc/self/uid_map; ip -o link | wc -l; for n in net mnt pid uts ipc user; do readlink /proc/self/ns/$n; done`})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != "corral" || !strings.HasPrefix(lines[1], "sleep 1000") || !strings.Contains(lines[2], "100000") || lines[3] != "1" {
		t.Fatalf("exec does not see the container:\n%s", out)
	}
	for i, n := range []string{"net", "mnt", "pid", "uts", "ipc", "user"} {
		want, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", initPid, n))
		if lines[4+i] != want {
			t.Errorf("%s namespace %s, want init's %s", n, lines[4+i], want)
		}
	}
}

func TestExecAsUserWithEnvAndCwd(t *testing.T) {
	c, _, _ := startScript(t, newConfig(t, busybox), `sleep 1000`)
	out, code := execIn(t, c, []string{"/bin/sh", "-c", "id -u; id -g; pwd; echo $GREETING; echo $HOME"}, func(p *libcontainer.Process) {
		p.User = "user1"
		p.Cwd = "/home/user1"
		p.Env = append(p.Env, "GREETING=hi")
	})
	if code != 0 || out != "1000\n1000\n/home/user1\nhi\n/home/user1\n" {
		t.Fatalf("exit %d, output %q", code, out)
	}
}

// TestExecTakesContainerSettings checks what an exec'd process takes from
// the container's config rather than its own: the OOM score.
func TestExecTakesContainerSettings(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.OomScoreAdj = ptr(321)
	c, _, _ := startScript(t, cfg, `sleep 1000`)
	if out, code := execIn(t, c, []string{"cat", "/proc/self/oom_score_adj"}); code != 0 || out != "321\n" {
		t.Fatalf("exit %d, oom_score_adj %q, want 321", code, out)
	}
}

func TestExecExitStatus(t *testing.T) {
	c, _, _ := startScript(t, newConfig(t, busybox), `sleep 1000`)
	if _, code := execIn(t, c, []string{"/bin/sh", "-c", "exit 7"}); code != 7 {
		t.Errorf("exit %d, want 7", code)
	}
	if _, code := execIn(t, c, []string{"/bin/sh", "-c", "kill -TERM $$"}); code != 128+int(unix.SIGTERM) {
		t.Errorf("exit %d, want %d", code, 128+int(unix.SIGTERM))
	}
}

func TestExecTerminal(t *testing.T) {
	c, _, _ := startScript(t, newConfig(t, busybox), `sleep 1000`)
	parent, child, err := socketpair()
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	defer child.Close()
	p := &libcontainer.Process{Args: []string{"/bin/sh", "-c", "read line; echo got:$line; tty"}, Env: []string{"PATH=/bin"},
		ConsoleSocket: child}
	if err := c.Run(p); err != nil {
		t.Fatal(err)
	}
	master, err := recvFile(parent)
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	master.Write([]byte("hello\n"))
	out := &syncBuffer{}
	go func() {
		buf := make([]byte, 1024)
		for {
			n, err := master.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	p.Wait()
	if !itest.WaitFor(10*time.Second, func() bool { return strings.Contains(out.String(), "/dev/pts/") }) {
		t.Fatalf("no terminal name in the output after 10s: %q", out.String())
	}
	if !strings.Contains(out.String(), "got:hello") {
		t.Fatalf("terminal output %q", out.String())
	}
}

func TestExecConcurrent(t *testing.T) {
	c, _, _ := startScript(t, newConfig(t, busybox), `sleep 1000`)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var out bytes.Buffer
			p := &libcontainer.Process{Args: []string{"/bin/echo", strconv.Itoa(i)}, Stdout: &out}
			if err := c.Run(p); err != nil {
				errs <- err
				return
			}
			st, err := p.Wait()
			if err != nil || !st.Success() || strings.TrimSpace(out.String()) != strconv.Itoa(i) {
				errs <- fmt.Errorf("exec %d: %v %v %q", i, err, st, out.String())
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestExecJoinsCgroup: the exec'd process lands in the container's cgroup
// without the fallback that writes its pid after its start.
func TestExecJoinsCgroup(t *testing.T) {
	cfg := newConfig(t, busybox)
	c, p, _ := startScript(t, cfg, `sleep 1000`)
	initPid, _ := p.Pid()
	logs := captureLogs(t)
	out, _ := execIn(t, c, []string{"/bin/cat", "/proc/self/cgroup"})
	// Born in it on cgroup v2 (on a hybrid host, its unified hierarchy),
	// moved by its own bootstrap in the v1 hierarchies: no fallback.
	want := "born in its cgroup"
	if !strings.Contains(logs.String(), want) || strings.Contains(logs.String(), "after the start") {
		t.Errorf("the exec did not take the expected way into its cgroup (%q); logs:\n%s", want, logs.String())
	}
	initCgroups, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", initPid))
	if out != string(initCgroups) {
		t.Fatalf("exec'd process cgroups:\n%s\ninit's:\n%s", out, initCgroups)
	}
	pids, err := c.Processes()
	if err != nil || len(pids) != 1 {
		t.Fatalf("processes %v %v", pids, err)
	}
}

// TestExecFileDescriptors: only stdio and the fds asked for reach the
// exec'd process.
func TestExecFileDescriptors(t *testing.T) {
	c, _, _ := startScript(t, newConfig(t, busybox), `sleep 1000`)
	extra, err := os.Open("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	out, _ := execIn(t, c, []string{"/bin/ls", "/proc/self/fd"}, func(p *libcontainer.Process) {
		p.ExtraFiles = []*os.File{extra}
	})
	// ls opens the directory itself: 0 1 2 3 (ours) and its own.
	fds := strings.Fields(out)
	if len(fds) != 5 || fds[3] != "3" {
		t.Fatalf("fds in the exec'd process: %v", fds)
	}
	out, _ = execIn(t, c, []string{"/bin/ls", "/proc/self/fd"})
	if fds := strings.Fields(out); len(fds) != 4 {
		t.Fatalf("fds in the exec'd process: %v", fds)
	}
}

func TestExecIntoPausedOrStopped(t *testing.T) {
	c, p, _ := startScript(t, newConfig(t, busybox), `sleep 1000`)
	if err := c.Pause(); err != nil {
		t.Fatal(err)
	}
	err := c.Run(&libcontainer.Process{Args: []string{"true"}})
	if !errors.Is(err, libcontainer.ErrPaused) {
		t.Fatalf("exec into paused: %v", err)
	}
	c.Resume()
	p.Signal(unix.SIGKILL)
	p.Wait()
	err = c.Run(&libcontainer.Process{Args: []string{"true"}})
	if !errors.Is(err, libcontainer.ErrStopped) {
		t.Fatalf("exec into stopped: %v", err)
	}
}

// TestExecWhileDestroying: an exec racing a Destroy fails or succeeds,
// but never hangs.
func TestExecWhileDestroying(t *testing.T) {
	for i := 0; i < 5; i++ {
		c, err := libcontainer.Create(t.TempDir(), randomID(t), newConfig(t, busybox))
		if err != nil {
			t.Fatal(err)
		}
		init := &libcontainer.Process{Args: []string{"sleep", "1000"}, Env: []string{"PATH=/bin"}, Init: true}
		if err := c.Run(init); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			p := &libcontainer.Process{Args: []string{"sleep", "1000"}, Env: []string{"PATH=/bin"}}
			if c.Run(p) == nil {
				p.Wait()
			}
		}()
		time.Sleep(time.Duration(i) * 2 * time.Millisecond)
		if err := c.Destroy(); err != nil {
			t.Fatal(err)
		}
		init.Wait()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Fatal("exec hung while the container was destroyed")
		}
	}
}

// TestExecOpenFilesOfRuntime: no fd of the runtime (this test binary)
// reaches the process; the test holds an extra file open to prove it.
func TestExecDoesNotLeakRuntimeFDs(t *testing.T) {
	f, err := os.Open(filepath.Join(busybox, "etc", "passwd"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, _, _ := startScript(t, newConfig(t, busybox), `sleep 1000`)
	out, _ := execIn(t, c, []string{"/bin/sh", "-c", "for f in /proc/self/fd/*; do readlink $f; done"})
	if strings.Contains(out, "passwd") || strings.Contains(out, "socket") {
		t.Fatalf("a runtime fd reached the exec'd process:\n%s", out)
	}
}

// captureLogs sends the library's debug logs to a buffer until the test
// ends.
func captureLogs(t *testing.T) *syncBuffer {
	buf := &syncBuffer{}
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(old) })
	return buf
}
