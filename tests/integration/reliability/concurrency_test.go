package reliability

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// concurrentTimeout bounds each command of the concurrency tests: they
// wait for each other's lock, but none should take long.
const concurrentTimeout = 30 * time.Second

// checkOutcome fails the test if r hung, crashed, or ended otherwise than
// with success or a plain error.
func checkOutcome(t *testing.T, r result) {
	t.Helper()
	switch {
	case r.hung:
		t.Errorf("command hung: %v", r)
	case r.args[0] == "exec" && r.code > 128 && r.code < 128+65:
		// A foreground exec exits 128+n when its program is killed by
		// signal n, as here by kill or delete.
	case r.code != 0 && r.code != failureCode(r.args):
		t.Errorf("command crashed (want exit 0 or %d): %v", failureCode(r.args), r)
	case strings.Contains(r.stderr, "panic:") || strings.Contains(r.stderr, "goroutine "):
		t.Errorf("command panicked: %v", r)
	case r.code == failureCode(r.args) && strings.TrimSpace(r.stderr) == "":
		t.Errorf("command failed without an error message: %v", r)
	}
}

// watchStateFile reads <root>/<id>/state.json until stop closes, and
// reports every read that is not valid JSON.
func watchStateFile(t *testing.T, path string, stop <-chan struct{}) (reads *atomic.Int64, done <-chan struct{}) {
	reads = new(atomic.Int64)
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		bad := 0
		for {
			select {
			case <-stop:
				return
			default:
			}
			b, err := os.ReadFile(path)
			switch {
			case errors.Is(err, os.ErrNotExist):
			case err != nil:
				t.Errorf("read %s: %v", path, err)
				return
			case !json.Valid(b):
				if bad++; bad <= 3 {
					t.Errorf("%s is not valid JSON while commands run (%d bytes): %.200q", path, len(b), b)
				}
			default:
				reads.Add(1)
			}
		}
	}()
	return reads, ch
}

// TestConcurrentCommandsOneID drives one container id with start, kill,
// delete --force, state, list, exec, pause and resume at once, round
// after round: no command hangs or crashes, state.json is always valid
// JSON, state afterwards tells the truth, and delete --force leaves
// nothing.
func TestConcurrentCommandsOneID(t *testing.T) {
	// Without pause and resume too, so that the other commands are
	// tested whatever pause does.
	for _, withPause := range []bool{true, false} {
		name := "all"
		if !withPause {
			name = "no-pause"
		}
		t.Run(name, func(t *testing.T) { concurrentCommands(t, withPause) })
	}
}

func concurrentCommands(t *testing.T, withPause bool) {
	rounds := 12
	if testing.Short() {
		rounds = 4
	}
	e := newEnv(t)
	id := e.id()
	marker := e.marker()
	dir := e.bundle(id, []string{"sleep", marker})
	stop := make(chan struct{})
	reads, watched := watchStateFile(t, filepath.Join(e.root, id, "state.json"), stop)
	defer func() {
		close(stop)
		<-watched
		t.Logf("state.json read %d times while commands ran", reads.Load())
	}()

	commands := [][]string{
		{"start", id},
		{"start", id},
		{"kill", id, "KILL"},
		{"kill", id, "TERM"},
		{"delete", "--force", id},
		{"state", id},
		{"state", id},
		{"list"},
		{"exec", id, "true"},
		{"exec", "--detach", id, "sleep", marker},
		{"pause", id},
		{"resume", id},
		{"ps", id},
	}
	outcomes := map[string]map[int]int{}
	errs := map[string]int{}
	for round := 0; round < rounds; round++ {
		e.must("create", "--bundle", dir, id)
		// Every other round runs without delete, so that the others
		// meet a container that lives (running, paused) longer.
		var cmds [][]string
		for _, c := range commands {
			if c[0] == "delete" && round%2 == 1 || !withPause && (c[0] == "pause" || c[0] == "resume") {
				continue
			}
			cmds = append(cmds, c)
		}
		// An exec whose process meets a pause waits for a resume,
		// like the process: when the others are done, a resume lets
		// it go on.
		var others, execs sync.WaitGroup
		results := make([]result, len(cmds))
		for i, args := range cmds {
			wg := &others
			if args[0] == "exec" {
				wg = &execs
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(rand.IntN(40)) * time.Millisecond)
				results[i] = e.corralT(concurrentTimeout, nil, args...)
			}()
		}
		othersDone := make(chan struct{})
		go func() {
			others.Wait()
			close(othersDone)
		}()
		select {
		case <-othersDone:
		case <-time.After(10 * time.Second):
			// Evidence for the report while the commands hang.
			fs, _ := os.ReadFile(filepath.Join(freezerDir(id), "freezer.state"))
			_, fifoErr := os.Stat(filepath.Join(e.root, id, "exec.fifo"))
			t.Logf("round %d: commands still running after 10s: container freezer.state %s, exec.fifo present: %v\n%s",
				round, strings.TrimSpace(string(fs)), fifoErr == nil, e.stateFiles(id))
			<-othersDone
		}
		if r := e.corralT(concurrentTimeout, nil, "resume", id); r.hung {
			t.Errorf("round %d: resume after the others: %v", round, r)
		}
		execs.Wait()
		for _, r := range results {
			checkOutcome(t, r)
			name := r.args[0]
			if outcomes[name] == nil {
				outcomes[name] = map[int]int{}
			}
			outcomes[name][r.code]++
			if r.code != 0 {
				msg := strings.ReplaceAll(strings.TrimSpace(r.stderr), id, "ID")
				msg = regexp.MustCompile(`[0-9]{3,}`).ReplaceAllString(msg, "N")
				errs[name+": "+msg]++
			}
		}

		// What is left must read as the truth.
		r := e.corralT(concurrentTimeout, nil, "state", id)
		checkOutcome(t, r)
		if r.code == 0 {
			var s state
			if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
				t.Fatalf("state after round %d: %v\n%s", round, err, r.stdout)
			}
			switch {
			case s.Status == "stopped" && s.Pid != 0 && itest.Alive(s.Pid):
				t.Errorf("round %d: state says stopped, pid %d is alive", round, s.Pid)
			case s.Status != "stopped" && !itest.Alive(s.Pid):
				t.Errorf("round %d: state says %s, pid %d is dead", round, s.Status, s.Pid)
			}
		} else if _, err := os.Stat(filepath.Join(e.root, id)); err == nil {
			t.Errorf("round %d: state fails but the state directory is there: %v\n%s", round, r, e.stateFiles(id))
		}
		e.deleteClean(id)
		if ps := waitNoMarker(marker, 5*time.Second); len(ps) > 0 {
			t.Errorf("round %d: processes outlive delete --force: %v", round, ps)
		}
		if t.Failed() {
			break
		}
	}
	t.Logf("exit codes per command: %v", outcomes)
	var msgs []string
	for m, n := range errs {
		msgs = append(msgs, fmt.Sprintf("%4d× %s", n, m))
	}
	sort.Strings(msgs)
	t.Logf("errors:\n%s", strings.Join(msgs, "\n"))
}

// TestConcurrentSecondCreate creates a container, then creates another
// one with the same id: the second fails cleanly and the first is
// unaffected.
func TestConcurrentSecondCreate(t *testing.T) {
	e := newEnv(t)
	id := e.id()
	tmp := t.TempDir()
	first := e.bundle(id, []string{"sleep", e.marker()})
	second := e.bundle(id, []string{"sleep", e.marker()})
	e.must("create", "--bundle", first, "--pid-file", filepath.Join(tmp, "pid1"), id)
	before := e.state(id)
	stateBefore, err := os.ReadFile(filepath.Join(e.root, id, "state.json"))
	if err != nil {
		t.Fatal(err)
	}

	r := e.fails([]string{id, "exists"}, "create", "--bundle", second, "--pid-file", filepath.Join(tmp, "pid2"), id)
	t.Logf("second create: %s", strings.TrimSpace(r.stderr))
	if _, err := os.Stat(filepath.Join(tmp, "pid2")); err == nil {
		t.Errorf("the failed create wrote its pid file")
	}
	after := e.state(id)
	if after != before {
		t.Errorf("the failed create changed the first container: %+v, was %+v", after, before)
	}
	stateAfter, _ := os.ReadFile(filepath.Join(e.root, id, "state.json"))
	if string(stateAfter) != string(stateBefore) {
		t.Errorf("the failed create rewrote state.json")
	}
	if !itest.Alive(before.Pid) {
		t.Errorf("the first container's init %d died", before.Pid)
	}
	// The same while the first runs.
	e.must("start", id)
	e.fails([]string{id, "exists"}, "create", "--bundle", second, id)
	if s := e.state(id); s.Status != "running" || s.Pid != before.Pid {
		t.Errorf("the first container after a second create: %+v, want running with pid %d", s, before.Pid)
	}
	e.deleteClean(id)

	// The same while the first create is under way: its createRuntime
	// hook takes a second, in which the second create comes.
	id = e.id()
	slow := e.bundle(id, []string{"sleep", e.marker()}, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sleep", Args: []string{"sleep", "1"}}}}
	})
	pidFile := filepath.Join(tmp, "pid3")
	b := e.background(nil, "create", "--bundle", slow, "--pid-file", pidFile, id)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(e.root, id, "state.json")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first create has no state after 10s: %v", b)
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.fails([]string{id, "exists"}, "create", "--bundle", second, id)
	if !b.wait(30 * time.Second) {
		t.Fatalf("the first create hangs: %v", b)
	}
	if b.exitCode() != 0 {
		t.Fatalf("the first create failed after a second create of its id: %v", b)
	}
	pid, err := readPid(pidFile, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s := e.state(id); s.Status != "created" || s.Pid != pid || s.Bundle != slow {
		t.Errorf("the first container after a second create during its own: %+v, want created, pid %d, bundle %s", s, pid, slow)
	}
	e.deleteClean(id)
}

// TestConcurrentCreatesSameID runs many creates of one id at once:
// exactly one wins, the others fail saying the container exists, and
// the winner's container is whole.
func TestConcurrentCreatesSameID(t *testing.T) {
	const n = 8
	rounds := 5
	if testing.Short() {
		rounds = 2
	}
	e := newEnv(t)
	for round := 0; round < rounds; round++ {
		id := e.id()
		tmp := t.TempDir()
		var bundles [n]string
		for i := range bundles {
			bundles[i] = e.bundle(id, []string{"sleep", e.marker()})
		}
		var wg sync.WaitGroup
		var results [n]result
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = e.corralT(concurrentTimeout, nil, "create", "--bundle", bundles[i],
					"--pid-file", filepath.Join(tmp, "pid"+string(rune('a'+i))), id)
			}()
		}
		wg.Wait()
		winner := -1
		for i, r := range results {
			checkOutcome(t, r)
			if r.code == 0 {
				if winner >= 0 {
					t.Errorf("round %d: creates %d and %d of %s both succeeded", round, winner, i, id)
				}
				winner = i
				continue
			}
			if !strings.Contains(r.stderr, id) || !strings.Contains(r.stderr, "exists") {
				t.Errorf("round %d: a losing create should say the container exists: %v", round, r)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no create of %s succeeded: %v", round, id, results)
		}
		pid, err := readPid(filepath.Join(tmp, "pid"+string(rune('a'+winner))), 0)
		if err != nil {
			t.Fatalf("round %d: the winner's pid file: %v", round, err)
		}
		s := e.state(id)
		if s.Status != "created" || s.Pid != pid || !itest.Alive(pid) {
			t.Errorf("round %d: the winner: state %+v, pid file %d (alive %v)", round, s, pid, itest.Alive(pid))
		}
		if s.Bundle != bundles[winner] {
			t.Errorf("round %d: the container has bundle %s, the winner's is %s", round, s.Bundle, bundles[winner])
		}
		for i := range n {
			if i == winner {
				continue
			}
			if _, err := os.Stat(filepath.Join(tmp, "pid"+string(rune('a'+i)))); err == nil {
				t.Errorf("round %d: losing create %d wrote a pid file", round, i)
			}
		}
		e.must("start", id)
		if s := e.state(id); s.Status != "running" {
			t.Errorf("round %d: the winner does not run after start: %+v", round, s)
		}
		e.deleteClean(id)
	}
}

// TestStartPausedCreated pauses a created container, then starts it.
// start may fail or run the program once the container is resumed, but
// must not hang, and while it runs, state, resume and delete --force must
// answer: a stuck start would hold the container's lock forever.
func TestStartPausedCreated(t *testing.T) {
	if _, err := os.Stat("/sys/fs/cgroup/freezer"); err != nil {
		t.Skip("no cgroup v1 freezer:", err)
	}
	e := newEnv(t)
	id := e.id()
	e.must("create", "--bundle", e.bundle(id, []string{"sleep", e.marker()}), id)
	pause := e.corral("pause", id)
	t.Logf("pause of a created container: exit %d %s", pause.code, strings.TrimSpace(pause.stderr))
	if pause.code != 0 {
		// Refusing to pause a created container is an answer too.
		e.deleteClean(id)
		return
	}
	t.Logf("state of the paused created container: %+v", e.state(id))
	start := e.background(nil, "start", id)
	if !start.wait(10 * time.Second) {
		t.Errorf("start of a paused created container hangs (10s so far), holding the container's lock:\n%v", start)
		for _, args := range [][]string{{"state", id}, {"resume", id}} {
			if r := e.corralT(3*time.Second, nil, args...); r.hung {
				t.Errorf("while start hangs: %v", r)
			}
		}
		if r := e.corralT(3*time.Second, nil, "delete", "--force", id); r.hung {
			t.Errorf("while start hangs: %v", r)
		}
		start.cmd.Process.Kill()
		start.wait(10 * time.Second)
	} else {
		t.Logf("start of a paused created container: %v", start)
	}
	e.corral("resume", id)
	e.deleteClean(id)
}
