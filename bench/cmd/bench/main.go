// Command bench measures the corral runtime against runc and crun on the
// same machine, in the same run, for the targets of issue 7: start latency
// (run, create, start, delete, exec), throughput (containers one after
// another and two at a time), peak memory and binary size.
//
// The runtimes are interleaved: every iteration runs each measurement once
// per runtime, in an order that rotates with the iteration, so that noise
// on the machine (another job, frequency changes, page cache) lands on all
// of them alike instead of on whichever ran during the noisy minute.
//
// It is meant to be run by bench/run.sh, which installs the runtimes,
// builds corral and the bundle, and cleans up after a crash:
//
//	bench/run.sh [-n 40] [-go]
//
// It must run as root: it creates real containers, each in its own cgroup.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

type options struct {
	n, warmup      int
	batches        int
	seq, parTotal  int
	par            int
	bundle, work   string
	out, gobench   string
	idPrefix       string
	corral, runc   string
	crun, crunWrap string
	only           string
	label          string
	compare        bool
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 40, "measured iterations per runtime for the latency figures (at least 30 for the report)")
	flag.IntVar(&o.warmup, "warmup", 2, "iterations run first and thrown away (page cache, first exec of each binary)")
	flag.IntVar(&o.batches, "batches", 10, "repetitions of each throughput batch, interleaved like the rest")
	flag.IntVar(&o.seq, "seq", 50, "containers per sequential throughput batch")
	flag.IntVar(&o.parTotal, "par-total", 100, "containers per parallel throughput batch")
	flag.IntVar(&o.par, "par", 2, "containers at a time in the parallel batch")
	flag.StringVar(&o.bundle, "bundle", "", "bundle with rootfs/ and a config.json, of `corral spec` or `runc spec` (rewritten here: /bin/true, no terminal)")
	flag.StringVar(&o.work, "work", "", "scratch directory for state roots and pid files (default: a new temporary directory, removed at the end)")
	flag.StringVar(&o.out, "out", "bench/out/results.json", "where to write the results as JSON")
	flag.StringVar(&o.gobench, "gobench", "", "output of `go test -bench` to include in the report")
	flag.StringVar(&o.idPrefix, "id-prefix", fmt.Sprintf("cbench%d-", os.Getpid()), "prefix of every container id, and so of every cgroup made (to find leaks)")
	flag.StringVar(&o.corral, "corral", "bench/out/corral", "corral binary")
	flag.StringVar(&o.runc, "runc", "runc", "runc binary")
	flag.StringVar(&o.crun, "crun", "crun", "crun binary")
	flag.StringVar(&o.crunWrap, "crun-wrapper", "", "command that runs crun on this host (crun-hybrid); empty: run crun directly")
	flag.StringVar(&o.only, "runtimes", "corral,runc,crun", "runtimes to measure, comma separated; corral is the reference")
	flag.StringVar(&o.label, "label", "", "name of the bundle in the report (\"corral spec\", \"runc spec\")")
	flag.BoolVar(&o.compare, "compare", false, "print corral's ratios side by side from the results JSON files named as arguments, and measure nothing")
	flag.Parse()
	if o.compare {
		if err := compareRuns(os.Stdout, flag.Args()); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(o options) (err error) {
	if os.Geteuid() != 0 {
		return errors.New("must run as root: it creates containers and cgroups")
	}
	if o.bundle == "" {
		return errors.New("-bundle is required")
	}
	if o.n < 1 || o.batches < 0 || o.seq < 0 || o.parTotal < 0 || o.par < 1 {
		return errors.New("-n and -par must be at least 1; -batches, -seq and -par-total not negative")
	}
	// Inits of created containers outlive the runtime that made them; as
	// a subreaper they become our children and we reap them, rather than
	// leaving zombies to a pid 1 that may reap late or never (on this
	// machine it is not an init system). Reaping also makes "stopped"
	// certain before we time `delete`.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("become a subreaper: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	if o.work == "" {
		dir, err := os.MkdirTemp("", "corral-bench.")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.work = dir
	}
	bundle, err := filepath.Abs(o.bundle)
	if err != nil {
		return err
	}
	b, err := prepareBundles(bundle, filepath.Join(o.work, "sleep-bundle"))
	if err != nil {
		return err
	}

	rts, err := setupRuntimes(o)
	if err != nil {
		return err
	}
	// Whatever happens from here on, no container and no cgroup of ours
	// may survive the run.
	defer func() {
		leaks := cleanup(rts, o.idPrefix)
		if len(leaks) > 0 {
			fmt.Fprintf(os.Stderr, "bench: removed cgroups the runtimes left behind:\n  %s\n", strings.Join(leaks, "\n  "))
			if err == nil {
				err = errors.New("cgroups leaked (removed, listed above)")
			}
		}
	}()

	ts, tsErr := openTaskstats()
	if tsErr != nil {
		fmt.Fprintf(os.Stderr, "bench: no taskstats (%v): peak RSS of the runtime falls back to wait4's ru_maxrss\n", tsErr)
	} else {
		defer ts.close()
	}

	load := loadavg()
	s := &session{opts: o, bundle: b, ts: ts, res: newResults()}
	if err := s.preflight(ctx, rts); err != nil {
		return err
	}
	if err := s.measure(ctx); err != nil {
		return err
	}
	if tsErr != nil {
		s.res.Notes = append(s.res.Notes, "taskstats unavailable ("+tsErr.Error()+"): the runtime's peak RSS is wait4's ru_maxrss, which includes reaped children")
	}
	if o.gobench != "" {
		gb, err := parseGoBench(o.gobench)
		if err != nil {
			return fmt.Errorf("read %s: %w", o.gobench, err)
		}
		s.res.GoBench = gb
	}
	s.res.Machine = machineInfo(load)
	s.res.finish(s.rts, o)
	printReport(os.Stdout, s.res)
	if err := writeJSON(o.out, s.res); err != nil {
		return err
	}
	fmt.Printf("\nJSON: %s\n", o.out)
	if s.res.Errors > 0 {
		return fmt.Errorf("%d runtime invocations failed (see the table)", s.res.Errors)
	}
	return nil
}

func writeJSON(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// ms is d in milliseconds, the unit of the latency figures.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
