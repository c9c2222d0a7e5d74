package lib

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/configs/validate"
)

func TestStatusTransitions(t *testing.T) {
	root := t.TempDir()
	cfg := newConfig(t, busybox)
	c, err := libcontainer.Create(root, "life", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	status := func(want libcontainer.Status) {
		t.Helper()
		// A second process sees the same thing: load afresh.
		l, err := libcontainer.Load(root, "life")
		if err != nil {
			t.Fatal(err)
		}
		if s, err := l.Status(); err != nil || s != want {
			t.Fatalf("status %s (%v), want %s", s, err, want)
		}
	}
	status(libcontainer.Stopped)
	p := &libcontainer.Process{Args: []string{"/bin/sh", "-c", "read x"}, Env: []string{"PATH=/bin"}, Init: true}
	stdin, w, _ := os.Pipe()
	p.Stdin = stdin
	if err := c.Start(p); err != nil {
		t.Fatal(err)
	}
	stdin.Close()
	status(libcontainer.Created)
	st, _ := c.OCIState()
	if st.Status != "created" || st.Pid == 0 {
		t.Fatalf("OCI state %+v", st)
	}
	if err := c.Exec(); err != nil {
		t.Fatal(err)
	}
	status(libcontainer.Running)
	if err := c.Exec(); !errors.Is(err, libcontainer.ErrNotCreated) {
		t.Fatalf("second Exec: %v, want ErrNotCreated", err)
	}
	w.Close() // sh reads EOF and exits
	if _, err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	status(libcontainer.Stopped)
	if err := c.Start(p); err == nil {
		t.Fatal("a stopped container started again")
	}
	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}
	if err := c.Destroy(); err != nil {
		t.Fatalf("second Destroy: %v", err)
	}
	if _, err := libcontainer.Load(root, "life"); !errors.Is(err, libcontainer.ErrNotExist) {
		t.Fatalf("Load after Destroy: %v", err)
	}
}

func TestDuplicateAndInvalidIDs(t *testing.T) {
	root := t.TempDir()
	c, err := libcontainer.Create(root, "dup", newConfig(t, busybox))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	if _, err := libcontainer.Create(root, "dup", newConfig(t, busybox)); !errors.Is(err, libcontainer.ErrExist) {
		t.Fatalf("duplicate id: %v", err)
	}
	for _, id := range []string{"", ".", "..", ".hidden", "a/b", "../x", "x y", strings.Repeat("a", 1025)} {
		if _, err := libcontainer.Create(root, id, newConfig(t, busybox)); !errors.Is(err, libcontainer.ErrInvalidID) {
			t.Errorf("id %q: %v, want ErrInvalidID", id, err)
		}
	}
	ents, _ := os.ReadDir(root)
	if len(ents) != 1 {
		t.Fatalf("state root holds %d entries, want only dup", len(ents))
	}
}

// TestInvalidConfigsLeaveNothing: every invalid config is refused by
// Create, with the field named, and nothing is made.
func TestInvalidConfigsLeaveNothing(t *testing.T) {
	for name, tt := range map[string]struct {
		mod   func(*configs.Config)
		field string
	}{
		"relative mount":       {func(c *configs.Config) { c.Mounts[0].Destination = "proc" }, "mounts[0].destination"},
		"userns without maps":  {func(c *configs.Config) { c.Namespaces.Add(configs.NEWUSER, "") }, "uid_mappings"},
		"wrong namespace type": {func(c *configs.Config) { c.Namespaces.Add(configs.NEWUTS, "/proc/self/ns/net") }, "namespaces"},
		"sysctl not owned": {func(c *configs.Config) {
			c.Namespaces.Remove(configs.NEWNET)
			c.Networks = nil
			c.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}, "sysctl"},
		"hostname without uts":   {func(c *configs.Config) { c.Namespaces.Remove(configs.NEWUTS) }, "hostname"},
		"rootfs missing":         {func(c *configs.Config) { c.Rootfs = "/nonexistent/rootfs" }, "rootfs"},
		"unknown capability":     {func(c *configs.Config) { c.Capabilities.Bounding = []string{"CAP_BOGUS"} }, "capabilities"},
		"bad rlimit":             {func(c *configs.Config) { c.Rlimits = []configs.Rlimit{{Type: 99}} }, "rlimits"},
		"oom score":              {func(c *configs.Config) { c.OomScoreAdj = ptr(5000) }, "oom_score_adj"},
		"bad network":            {func(c *configs.Config) { c.Networks = []*configs.Network{{Type: "veth"}} }, "networks"},
		"relative mask":          {func(c *configs.Config) { c.MaskPaths = []string{"proc/kcore"} }, "mask_paths"},
		"time offsets no timens": {func(c *configs.Config) { c.TimeOffsets = map[string]specsOffset{"boottime": {Secs: 1}} }, "time_offsets"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := newConfig(t, busybox)
			tt.mod(cfg)
			root := t.TempDir()
			_, err := libcontainer.Create(root, "bad", cfg)
			if !errors.Is(err, validate.ErrInvalid) || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("got %v, want an invalid-config error naming %s", err, tt.field)
			}
			if ents, _ := os.ReadDir(root); len(ents) != 0 {
				t.Fatalf("state root not empty after a refused config")
			}
		})
	}
}

// TestFailedStartLeavesNothing: a start that fails in init removes the
// cgroup, the mounts and the process it made.
func TestFailedStartLeavesNothing(t *testing.T) {
	for name, tt := range map[string]struct {
		mod  func(*configs.Config)
		args []string
		want string
	}{
		"no such program": {nil, []string{"/bin/nonexistent"}, `process.args[0] "/bin/nonexistent"`},
		"not in PATH":     {nil, []string{"nonexistent"}, "not found in $PATH"},
		"missing bind source": {func(c *configs.Config) {
			c.Mounts = append(c.Mounts, &configs.Mount{Source: "/nonexistent/src", Destination: "/data", Device: "bind", Flags: unix.MS_BIND})
		}, []string{"true"}, `mounts[6]: mount "/nonexistent/src" on "/data": source does not exist`},
		"bind over a file": {func(c *configs.Config) {
			c.Mounts = append(c.Mounts, &configs.Mount{Source: "/tmp", Destination: "/bin/busybox/x", Device: "bind", Flags: unix.MS_BIND})
		}, []string{"true"}, `mounts[6]: mount "/tmp" on "/bin/busybox/x"`},
		"proc on a symlink": {func(c *configs.Config) {
			c.Rootfs = newRootfs(t)
			os.Remove(filepath.Join(c.Rootfs, "proc"))
			os.Symlink("/tmp", filepath.Join(c.Rootfs, "proc"))
		}, []string{"true"}, "/proc is a symlink"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := newConfig(t, busybox)
			if tt.mod != nil {
				tt.mod(cfg)
			}
			_, err := run(t, cfg, tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
}

// TestKilledInitDuringStart: init killed while it waits for start gives a
// clear error and Destroy cleans up.
func TestKilledInitBeforeExec(t *testing.T) {
	cfg := newConfig(t, busybox)
	root := t.TempDir()
	before := snapshot(t)
	c, err := libcontainer.Create(root, "killed", cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := &libcontainer.Process{Args: []string{"true"}, Init: true}
	if err := c.Start(p); err != nil {
		t.Fatal(err)
	}
	p.Signal(unix.SIGKILL)
	p.Wait()
	if s, _ := c.Status(); s != libcontainer.Stopped {
		t.Fatalf("status %s after init was killed", s)
	}
	if err := c.Exec(); err == nil {
		t.Fatal("Exec of a container whose init died succeeded")
	}
	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}
	checkNoLeaks(t, before, root, "killed", cfg)
}

// TestStaleStateIsNotTrusted: a state file naming a pid that now belongs
// to another process (pid reuse), or a runtime killed mid-create, reads
// as stopped, and Destroy removes the cgroup it left.
func TestStaleStateIsNotTrusted(t *testing.T) {
	root := t.TempDir()
	cfg := newConfig(t, busybox)
	c, err := libcontainer.Create(root, "stale", cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A runtime killed mid-create leaves a state with no pid and a cgroup.
	cgDir := cgroupDir(cfg)
	if err := os.MkdirAll(cgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.Status(); s != libcontainer.Stopped {
		t.Fatalf("status %s", s)
	}
	// Now a pid that is alive but is not init: our own.
	path := filepath.Join(root, "stale", "state.json")
	b, _ := os.ReadFile(path)
	var st map[string]any
	json.Unmarshal(b, &st)
	st["init_process_pid"] = os.Getpid()
	st["init_process_start"] = 12345
	b, _ = json.Marshal(st)
	os.WriteFile(path, b, 0o600)
	if s, _ := c.Status(); s != libcontainer.Stopped {
		t.Fatalf("status %s for a reused pid", s)
	}
	if err := c.Signal(unix.SIGTERM); err == nil {
		t.Fatal("Signal reached the process that reused init's pid")
	}
	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cgDir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("cgroup %s left behind", cgDir)
	}
}

// TestConsole gives init a terminal through a console socket.
func TestConsole(t *testing.T) {
	parent, child, err := socketpair()
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	defer child.Close()
	root := t.TempDir()
	c, err := libcontainer.Create(root, "tty", newConfig(t, busybox))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	p := &libcontainer.Process{Args: []string{"/bin/sh", "-c", "tty; stty size; ls -l /dev/console | cut -c1"},
		Env: []string{"PATH=/bin"}, ConsoleSocket: child, ConsoleWidth: 100, ConsoleHeight: 40, Init: true}
	if err := c.Start(p); err != nil {
		t.Fatal(err)
	}
	master, err := recvFile(parent)
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	var out strings.Builder
	done := make(chan struct{})
	go func() { io.Copy(&out, master); close(done) }()
	if err := c.Exec(); err != nil {
		t.Fatal(err)
	}
	p.Wait()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	got := strings.ReplaceAll(out.String(), "\r", "")
	if !strings.Contains(got, "/dev/pts/0\n40 100\nc\n") {
		t.Fatalf("terminal output %q", got)
	}
}

// TestInitRunsFromReadonlyBinary: while init runs the runtime's binary in
// the container, that binary is on a read-only mount (CVE-2019-5736).
func TestInitRunsFromReadonlyBinary(t *testing.T) {
	c, err := libcontainer.Create(t.TempDir(), randomID(t), newConfig(t, busybox))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	p := &libcontainer.Process{Args: []string{"true"}, Init: true}
	if err := c.Start(p); err != nil {
		t.Fatal(err)
	}
	pid, _ := p.Pid()
	var st unix.Statfs_t
	if err := unix.Statfs("/proc/"+strconv.Itoa(pid)+"/exe", &st); err != nil {
		t.Fatal(err)
	}
	if st.Flags&unix.ST_RDONLY == 0 {
		t.Fatalf("init's binary is on a writable mount (flags %#x)", st.Flags)
	}
	c.Destroy()
	p.Wait()
}
