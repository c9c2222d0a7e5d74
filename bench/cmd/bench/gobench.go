package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// goBench is one line of `go test -bench` output.
type goBench struct {
	Package    string             `json:"package"`
	Name       string             `json:"name"`
	Iterations int64              `json:"iterations"`
	Metrics    map[string]float64 `json:"metrics"` // by unit: ns/op, B/op, allocs/op, ...
}

// parseGoBench reads the benchmark lines of `go test -bench` output,
// attributing each to the package named by the preceding "pkg:" line.
func parseGoBench(path string) ([]goBench, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []goBench
	pkg := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		if b, ok := parseGoBenchLine(line); ok {
			b.Package = strings.TrimPrefix(pkg, "github.com/corral-oci/corral/")
			out = append(out, b)
		}
	}
	return out, sc.Err()
}

// parseGoBenchLine parses "BenchmarkX-2  200  1234 ns/op  56 B/op  3 allocs/op".
func parseGoBenchLine(line string) (goBench, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
		return goBench{}, false
	}
	iters, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return goBench{}, false
	}
	b := goBench{Name: f[0], Iterations: iters, Metrics: map[string]float64{}}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return goBench{}, false
		}
		b.Metrics[f[i+1]] = v
	}
	return b, true
}
