package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestQuantile(t *testing.T) {
	s := summarize([]float64{5, 1, 4, 2, 3})
	if s.Median != 3 || s.Min != 1 || s.Max != 5 {
		t.Fatalf("median/min/max = %v/%v/%v, want 3/1/5", s.Median, s.Min, s.Max)
	}
	// Interpolated: position 0.4 between 1 and 2, position 3.6 between 4 and 5.
	if s.P10 != 1.4 || s.P90 != 4.6 {
		t.Fatalf("p10/p90 = %v/%v, want 1.4/4.6", s.P10, s.P90)
	}
	if s := summarize([]float64{7}); s.Median != 7 || s.P10 != 7 || s.P90 != 7 {
		t.Fatalf("one sample: %+v", s)
	}
	if s := summarize([]float64{1, 2}); s.Median != 1.5 {
		t.Fatalf("median of 1, 2 = %v", s.Median)
	}
}

func TestRotate(t *testing.T) {
	rts := []*ociRuntime{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	firsts := map[string]int{}
	for i := -2; i < 7; i++ { // warmup iterations are negative
		order := rotate(rts, i)
		seen := map[string]bool{}
		for _, r := range order {
			seen[r.Name] = true
		}
		if len(seen) != 3 {
			t.Fatalf("iteration %d: order %v is not a permutation", i, order)
		}
		if i >= 0 && i < 6 {
			firsts[order[0].Name]++
		}
	}
	for _, n := range []string{"a", "b", "c"} {
		if firsts[n] != 2 {
			t.Fatalf("%s first %d times in 6 iterations, want 2", n, firsts[n])
		}
	}
}

func TestParseGoBenchLine(t *testing.T) {
	b, ok := parseGoBenchLine("BenchmarkValidate-2   \t     200\t     12345 ns/op\t    678 B/op\t       9 allocs/op")
	if !ok || b.Name != "BenchmarkValidate-2" || b.Iterations != 200 ||
		b.Metrics["ns/op"] != 12345 || b.Metrics["B/op"] != 678 || b.Metrics["allocs/op"] != 9 {
		t.Fatalf("got %+v, %v", b, ok)
	}
	for _, line := range []string{"PASS", "ok  \tpkg\t0.5s", "BenchmarkX-2 --- SKIP", "goos: linux"} {
		if _, ok := parseGoBenchLine(line); ok {
			t.Errorf("%q parsed as a benchmark", line)
		}
	}
}

// TestTaskstatsExcludesChildren checks the reason taskstats is used: for
// a process whose child used more memory than itself, wait4's ru_maxrss
// reports the child's peak, the exit record the process's own.
func TestTaskstatsExcludesChildren(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("taskstats listeners need root")
	}
	ts, err := openTaskstats()
	if err != nil {
		t.Skip(err)
	}
	defer ts.close()
	ts.reset()
	// sh stays small; the dd it forks and reaps touches a 64 MiB buffer.
	cmd := exec.Command("/bin/sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	wait4 := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
	self, ok := ts.peakRSS(cmd.ProcessState.Pid())
	if !ok {
		t.Fatal("no exit record for sh")
	}
	t.Logf("sh: ru_maxrss %d KiB, own hiwater_rss %d KiB", wait4, self)
	if wait4 < 60<<10 {
		t.Fatalf("ru_maxrss %d KiB does not include dd's 64 MiB", wait4)
	}
	if self == 0 || self > 16<<10 {
		t.Fatalf("sh's own peak %d KiB: not its own", self)
	}
}

func TestCompareRuns(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i, label := range []string{"corral spec", "runc spec"} {
		r := &results{
			Settings: settings{Bundle: "/b", Label: label},
			Runtimes: []*ociRuntime{{Name: "corral"}, {Name: "runc"}},
			Metrics: []*metricResult{{Key: mRun, Title: "run", Unit: "ms",
				RatioToCorral: map[string]float64{"runc": 0.5 + float64(i)}}},
		}
		p := filepath.Join(dir, label+".json")
		if err := writeJSON(p, r); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	var b strings.Builder
	if err := compareRuns(&b, paths); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"corral spec: corral/runc", "runc spec: corral/runc", "0.50x", "1.50x"} {
		if !strings.Contains(out, want) {
			t.Errorf("compare output lacks %q:\n%s", want, out)
		}
	}
}
