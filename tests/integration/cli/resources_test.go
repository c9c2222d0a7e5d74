package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/cgroups"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// event is a line of `corral events`, with the figures the tests read.
type event struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data *struct {
		CPU struct {
			Usage struct {
				Total uint64 `json:"total"`
			} `json:"usage"`
		} `json:"cpu"`
		Memory struct {
			Usage struct {
				Limit uint64 `json:"limit"`
			} `json:"usage"`
		} `json:"memory"`
		Pids struct {
			Current uint64 `json:"current"`
			Limit   uint64 `json:"limit"`
		} `json:"pids"`
	} `json:"data"`
}

func (e *env) stats(id string) event {
	e.T.Helper()
	out := e.Must("events", "--stats", id)
	var ev event
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		e.T.Fatalf("events --stats: %v\n%s", err, out)
	}
	if ev.Type != "stats" || ev.ID != id || ev.Data == nil {
		e.T.Fatalf("events --stats: %s", out)
	}
	return ev
}

func TestPauseResume(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.runDetached([]string{"sleep", "100"})
	e.Must("pause", id)
	if s := e.state(id); s.Status != "paused" {
		t.Fatalf("status after pause: %s", s.Status)
	}
	e.fails([]string{id, "paused", "--ignore-paused"}, "exec", id, "true")
	e.Must("resume", id)
	if s := e.state(id); s.Status != "running" {
		t.Errorf("status after resume: %s", s.Status)
	}
	e.Must("exec", id, "true")
	// A paused container is deleted with --force only.
	e.Must("pause", id)
	e.fails([]string{id, "paused"}, "delete", id)
	e.Must("delete", "--force", id)
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.runDetached([]string{"sleep", "100"})
	e.Must("update", "--memory", "64m", "--pids-limit", "50", "--cpu-share", "512", id)
	ev := e.stats(id)
	if ev.Data.Memory.Usage.Limit != 64<<20 || ev.Data.Pids.Limit != 50 {
		t.Errorf("after update: memory limit %d, pids limit %d", ev.Data.Memory.Usage.Limit, ev.Data.Pids.Limit)
	}

	// --resources from stdin changes what it names and nothing else.
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := e.Command(ctx, "update", "--resources", "-", id)
	cmd.Stdin = strings.NewReader(`{"pids": {"limit": 42}}`)
	if r := e.RunCmd(cmd); r.Code != 0 {
		t.Fatalf("update -r -: %s", r.Stderr)
	}
	ev = e.stats(id)
	if ev.Data.Pids.Limit != 42 || ev.Data.Memory.Usage.Limit != 64<<20 {
		t.Errorf("after update -r: pids limit %d, memory limit %d", ev.Data.Pids.Limit, ev.Data.Memory.Usage.Limit)
	}
	r := e.Corral("update", "--kernel-memory", "1m", id)
	if r.Code != 0 || !strings.Contains(r.Stderr, "kernel-memory") {
		t.Errorf("--kernel-memory: exit %d, stderr %q", r.Code, r.Stderr)
	}
	e.fails([]string{"--memory", "not a size"}, "update", "--memory", "lots", id)
	e.Must("delete", "-f", id)

	stopped := e.runDetached([]string{"true"})
	e.waitStatus(stopped, "stopped")
	e.fails([]string{stopped, "stopped"}, "update", "--memory", "1m", stopped)
	e.Must("delete", stopped)
}

// TestEvents reads the stats stream and checks it ends with the
// container.
func TestEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.runDetached([]string{"sleep", "100"})
	if ev := e.stats(id); ev.Data.Pids.Current != 1 || ev.Data.CPU.Usage.Total == 0 {
		t.Errorf("stats: %+v", ev.Data)
	}

	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := e.Command(ctx, "events", "--interval", "50ms", id)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	lines := bufio.NewScanner(r)
	for i := 0; i < 2; i++ {
		if !lines.Scan() {
			t.Fatalf("events ended early: %v", lines.Err())
		}
		var ev event
		if err := json.Unmarshal(lines.Bytes(), &ev); err != nil || ev.Type != "stats" || ev.ID != id {
			t.Fatalf("event %q: %v", lines.Text(), err)
		}
	}
	e.Must("delete", "-f", id)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("events: %v", err)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Error("events did not end with the container")
	}
	e.fails([]string{"--interval"}, "events", "--interval", "0s", "x")
}

// TestExecIgnorePaused starts a process in a paused container: it is in
// the container's cgroups before it runs, and frozen with the container
// until it resumes, as with runc. On cgroup v1 the freezer alone is joined
// after the exec (the setup would freeze in it); on cgroup v2, where the
// freezer is the cgroup that holds the limits, the exec waits for the
// resume.
func TestExecIgnorePaused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.runDetached([]string{"sleep", "100"})
	e.Must("pause", id)
	pidFile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := e.Command(ctx, "exec", "--ignore-paused", "--detach", "--pid-file", pidFile, id, "sleep", "100")
	// A file, not a pipe: the detached process keeps corral's stderr
	// open, and Wait would wait for it.
	stderr, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if cgroups.IsCgroup2UnifiedMode() {
		e.Must("resume", id)
	}
	if err := <-done; err != nil {
		t.Fatalf("exec --ignore-paused: %v: %s", err, readFile(t, stderr.Name()))
	}
	if !cgroups.IsCgroup2UnifiedMode() {
		if s := e.state(id); s.Status != "paused" {
			t.Errorf("status after exec --ignore-paused: %s", s.Status)
		}
		e.Must("resume", id)
	}
	b, _ := os.ReadFile(pidFile)
	pid, err := strconv.Atoi(string(b))
	if err != nil || !itest.Alive(pid) {
		t.Fatalf("pid file %q: the process does not run", b)
	}
	if got, want := readFile(t, "/proc/"+string(b)+"/cgroup"), readFile(t, "/proc/"+strconv.Itoa(e.state(id).Pid)+"/cgroup"); got != want {
		t.Errorf("the exec'd process is in the cgroups\n%s\nnot in the container's\n%s", got, want)
	}
	e.Must("delete", "-f", id)
}

// readFile returns the content of path, failing the test if it cannot be
// read.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestExecPausedRefusedAtOnce freezes a container in each freezer the
// host has: with `corral pause`, and directly, as another tool would (on
// a hybrid host, the unified hierarchy's cgroup.freeze, which corral's
// pause does not use). An exec must fail at once saying the container is
// paused: one that joined the frozen cgroup would hang until a thaw.
func TestExecPausedRefusedAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.runDetached([]string{"sleep", "100"})
	cg := e.CgroupsPath(id)
	type freezer struct {
		name         string
		freeze, thaw func()
	}
	write := func(file, value string) func() {
		return func() {
			if err := os.WriteFile(file, []byte(value), 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	freezers := []freezer{{"corral pause", func() { e.Must("pause", id) }, func() { e.Must("resume", id) }}}
	if cgroups.IsCgroup2UnifiedMode() {
		f := filepath.Join("/sys/fs/cgroup", cg, "cgroup.freeze")
		freezers = append(freezers, freezer{"cgroup.freeze", write(f, "1"), write(f, "0")})
	} else {
		f := filepath.Join("/sys/fs/cgroup/freezer", cg, "freezer.state")
		freezers = append(freezers, freezer{"freezer.state", write(f, "FROZEN"), write(f, "THAWED")})
		if _, err := os.Stat("/sys/fs/cgroup/unified/cgroup.procs"); err == nil {
			f := filepath.Join("/sys/fs/cgroup/unified", cg, "cgroup.freeze")
			// Thawed by `corral resume`, which thaws every freezer.
			freezers = append(freezers, freezer{"hybrid cgroup.freeze", write(f, "1"), func() { e.Must("resume", id) }})
		}
	}
	for _, fr := range freezers {
		fr.freeze()
		if s := e.state(id); s.Status != "paused" {
			t.Errorf("%s: status %s, want paused", fr.name, s.Status)
		}
		r := itest.Run(e.Command(context.Background(), "exec", id, "true"), 10*time.Second)
		if r.Hung || r.Code != 255 || !strings.Contains(r.Stderr, "cannot exec in a paused container") {
			t.Errorf("%s: exec in the frozen container: %v", fr.name, r)
		}
		fr.thaw()
		if s := e.state(id); s.Status != "running" {
			t.Errorf("%s: status after the thaw %s, want running", fr.name, s.Status)
		}
		e.Must("exec", id, "true")
	}
	e.Must("delete", "-f", id)
}
