package cli

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// CORRAL_PHASES traces a start from the command line, the C bootstrap
// and init alike, in the order the phases happen.
func TestPhaseTrace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	bundle := e.Bundle(id, []string{"true"})
	trace := filepath.Join(t.TempDir(), "phases")
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := e.Command(ctx, "run", "--bundle", bundle, id)
	cmd.Env = append(os.Environ(), "CORRAL_PHASES="+trace)
	if r := e.RunCmd(cmd); r.Code != 0 {
		t.Fatalf("run: exit %d: %s", r.Code, r.Stderr)
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cli:main", "spawn:fork", "boot:start", "boot:read", "boot:cgroups-joined",
		"boot:unshared", "boot:forked", "init:go-main", "init:mounted", "init:pivoted", "init:exec",
		"start:exec-done", "destroy:done", "cli:exit"}
	at := map[string]int64{}
	pids := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("bad trace line %q in\n%s", line, b)
		}
		us, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			t.Fatalf("bad time in %q: %v", line, err)
		}
		at[f[2]], pids[f[2]] = us, f[0]
	}
	var last int64
	for _, p := range want {
		us, ok := at[p]
		if !ok {
			t.Fatalf("no %s in the trace:\n%s", p, b)
		}
		if us < last {
			t.Errorf("%s at %d µs, before the phase listed before it (%d µs):\n%s", p, us, last, b)
		}
		last = us
	}
	// init is pid 1 of its namespace; the bootstrap's child is init.
	if pids["init:go-main"] != "1" || pids["boot:forked"] != "1" {
		t.Errorf("init's marks should come from pid 1 of the container:\n%s", b)
	}
	if pids["cli:main"] == pids["boot:start"] {
		t.Errorf("the bootstrap runs in the runtime's process:\n%s", b)
	}
}
