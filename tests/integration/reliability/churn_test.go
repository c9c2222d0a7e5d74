package reliability

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// churnWorkers is how many containers live at once.
const churnWorkers = 4

// churnCount is how many containers TestChurnCLI runs: 40, 12 with
// -short, CORRAL_CHURN_CLI for the full run (1000).
func churnCount(t *testing.T) int {
	if v := os.Getenv("CORRAL_CHURN_CLI"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("CORRAL_CHURN_CLI=%q: want a number of containers", v)
		}
		return n
	}
	if testing.Short() {
		return 12
	}
	return 40
}

// TestChurnCLI runs containers through their whole life with the CLI,
// create, start, exec, kill, delete, a few at a time, and then finds
// nothing left: no state directory, cgroup, mount, process, or fd of the
// test (the long-lived caller).
func TestChurnCLI(t *testing.T) {
	n := churnCount(t)
	e := newEnv(t)
	fdsBefore := countFDs(t)

	// One config for all, each with its own cgroup and program.
	tmplDir := t.TempDir()
	e.must("spec", "--bundle", tmplDir)
	b, err := os.ReadFile(filepath.Join(tmplDir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tmpl specs.Spec
	if err := json.Unmarshal(b, &tmpl); err != nil {
		t.Fatal(err)
	}
	bundles := t.TempDir()

	jobs := make(chan int)
	var done atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	for range churnWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if failed.Load() {
					continue
				}
				if err := e.churnOne(tmpl, filepath.Join(bundles, strconv.Itoa(i)), i); err != nil {
					t.Errorf("container %d: %v", i, err)
					failed.Store(true)
					continue
				}
				if d := done.Add(1); d%100 == 0 {
					t.Logf("%d containers in %v", d, time.Since(start).Round(time.Second))
				}
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	t.Logf("%d containers, %d at a time, in %v", done.Load(), churnWorkers, time.Since(start).Round(time.Millisecond))

	if ents, _ := os.ReadDir(e.root); len(ents) > 0 {
		var names []string
		for _, ent := range ents {
			names = append(names, ent.Name())
		}
		t.Errorf("state directories left after the churn: %v", names)
	}
	if fds := countFDs(t); fds > fdsBefore+2 {
		t.Errorf("the test had %d open fds before the churn, %d after", fdsBefore, fds)
	}
	// The rest (cgroups of every id, mounts, processes) is the leak
	// check at the end of the test.
}

// churnOne runs container i through create, start, exec, kill and
// delete, checking each step.
func (e *env) churnOne(tmpl specs.Spec, dir string, i int) error {
	id := e.id()
	marker := e.marker()
	// A deep enough copy: the fields changed are replaced, not
	// modified in place.
	s := tmpl
	proc := *tmpl.Process
	s.Process = &proc
	linux := *tmpl.Linux
	s.Linux = &linux
	s.Root = &specs.Root{Path: busybox, Readonly: true}
	s.Process.Terminal = false
	s.Process.Args = []string{"sleep", marker}
	s.Linux.CgroupsPath = cgroupsPath(id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.Marshal(&s)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644); err != nil {
		return err
	}
	pidFile := filepath.Join(dir, "pid")
	step := func(args ...string) (result, error) {
		r := e.corral(args...)
		if r.code != 0 || r.hung {
			return r, fmt.Errorf("%v", r)
		}
		return r, nil
	}
	if _, err := step("create", "--bundle", dir, "--pid-file", pidFile, id); err != nil {
		return err
	}
	pid, err := readPid(pidFile, 0)
	if err != nil {
		return err
	}
	if _, err := step("start", id); err != nil {
		return err
	}
	want := "exec-" + strconv.Itoa(i)
	r, err := step("exec", id, "sh", "-c", "echo "+want)
	if err != nil {
		return err
	}
	if strings.TrimSpace(r.stdout) != want {
		return fmt.Errorf("exec printed %q, want %q", r.stdout, want)
	}
	if _, err := step("kill", id, "KILL"); err != nil {
		return err
	}
	if !waitDead(pid, 10*time.Second) {
		return fmt.Errorf("init %d survives kill KILL", pid)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := step("state", id)
		if err != nil {
			return err
		}
		var st state
		if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
			return fmt.Errorf("state: %v: %s", err, r.stdout)
		}
		if st.Status == "stopped" {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("container is %s, not stopped, 10s after its init died", st.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := step("delete", id); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(e.root, id)); err == nil {
		return fmt.Errorf("delete left the state directory: %s", e.stateFiles(id))
	}
	if d := cgroupDirs(id); len(d) > 0 {
		return fmt.Errorf("delete left cgroups %v", d)
	}
	if ps := markerProcs(marker); len(ps) > 0 {
		return fmt.Errorf("processes left: %v", ps)
	}
	os.RemoveAll(dir)
	return nil
}

// countFDs is how many fds this process has open.
func countFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
