package main

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// opTimeout bounds one runtime invocation: a hung runtime must end the
// benchmark with an error, not hang it.
const opTimeout = 2 * time.Minute

// ociRuntime is one runtime under test, invoked as
// argv... --root root <command> ...
type ociRuntime struct {
	Name string `json:"name"`
	// Binary is the runtime's own executable (what its size and version
	// are of); argv[0] may be a wrapper around it.
	Binary  string `json:"binary"`
	Wrapper string `json:"wrapper,omitempty"`
	Version string `json:"version"`
	Size    int64  `json:"binary_bytes"`
	Linking string `json:"linking"` // "static" or "dynamic"
	Note    string `json:"note,omitempty"`

	argv []string
	env  []string
	root string
	// stderr[i] takes the runtime's stderr for worker i: a file, not a
	// pipe, because the container init inherits it and a pipe would keep
	// Wait waiting until the container exits. Read back on failure.
	stderr []*os.File
}

func setupRuntimes(o options) ([]*ociRuntime, error) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	devNull = devnull
	var rts []*ociRuntime
	for _, name := range strings.Split(o.only, ",") {
		r := &ociRuntime{Name: strings.TrimSpace(name)}
		var bin string
		switch r.Name {
		case "corral":
			bin = o.corral
		case "runc":
			bin = o.runc
		case "crun":
			bin = o.crun
		default:
			return nil, fmt.Errorf("-runtimes: unknown runtime %q", r.Name)
		}
		if r.Binary, err = resolve(bin); err != nil {
			return nil, fmt.Errorf("%s: %w", r.Name, err)
		}
		r.argv = []string{r.Binary}
		r.env = os.Environ()
		if r.Name == "crun" {
			if o.crunWrap != "" {
				wrap, err := resolve(o.crunWrap)
				if err != nil {
					return nil, fmt.Errorf("crun wrapper: %w", err)
				}
				r.Wrapper = wrap
				r.argv = []string{wrap}
				r.env = append(r.env, "CRUN="+r.Binary)
				r.Note = "run through " + filepath.Base(wrap) + " (one extra mount namespace and sh per call, under 1 ms)"
			} else {
				r.Note = "run directly: no crun-hybrid wrapper (crun 1.8 refuses a hybrid cgroup host)"
			}
		}
		r.root = filepath.Join(o.work, "root-"+r.Name)
		if err := os.MkdirAll(r.root, 0o700); err != nil {
			return nil, err
		}
		for i := 0; i < max(o.par, 1); i++ {
			f, err := os.CreateTemp(o.work, r.Name+".stderr.")
			if err != nil {
				return nil, err
			}
			r.stderr = append(r.stderr, f)
		}
		r.describe()
		rts = append(rts, r)
	}
	if len(rts) == 0 || rts[0].Name != "corral" {
		return nil, errors.New("-runtimes: corral must come first: it is what the others are compared with")
	}
	return rts, nil
}

var devNull *os.File

// resolve finds a binary on $PATH and through symlinks, so that sizes and
// versions are those of the file that runs.
func resolve(bin string) (string, error) {
	p, err := exec.LookPath(bin)
	if err != nil {
		return "", err
	}
	if p, err = filepath.Abs(p); err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(p)
}

// describe fills in version, size and linking of the binary.
func (r *ociRuntime) describe() {
	if fi, err := os.Stat(r.Binary); err == nil {
		r.Size = fi.Size()
	}
	r.Linking = "static"
	if f, err := elf.Open(r.Binary); err == nil {
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				r.Linking = "dynamic"
			}
		}
		f.Close()
	}
	out, err := exec.Command(r.Binary, "--version").Output()
	if err != nil {
		r.Version = "unknown (" + err.Error() + ")"
		return
	}
	r.Version = strings.TrimSpace(string(out))
}

// shortVersion is the first line of the version text, e.g. "runc version 1.1.5+ds1".
func (r *ociRuntime) shortVersion() string {
	v, _, _ := strings.Cut(r.Version, "\n")
	return v
}

// outcome is one finished invocation.
type outcome struct {
	wall time.Duration
	pid  int
	// maxRSS is wait4's ru_maxrss in KiB: getrusage(RUSAGE_BOTH) of the
	// child, so the runtime's peak or that of any descendant it reaped,
	// whichever is higher.
	maxRSS int64
	cpu    time.Duration // user+system, the runtime and its reaped descendants
}

// do runs one runtime command and times it from just before the fork to
// just after the runtime was reaped: what a caller of the runtime waits.
// worker picks the stderr file, so that parallel callers do not share one.
func (r *ociRuntime) do(ctx context.Context, worker int, args ...string) (outcome, error) {
	argv := slices.Concat(r.argv, []string{"--root", r.root}, args)
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = r.env
	cmd.Stdin, cmd.Stdout = devNull, devNull
	errf := r.stderr[worker]
	if err := errf.Truncate(0); err != nil {
		return outcome{}, err
	}
	if _, err := errf.Seek(0, 0); err != nil {
		return outcome{}, err
	}
	cmd.Stderr = errf

	t0 := time.Now()
	err := cmd.Start()
	if err == nil {
		err = cmd.Wait()
	}
	o := outcome{wall: time.Since(t0)}
	if cmd.ProcessState != nil {
		o.pid = cmd.ProcessState.Pid()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			o.maxRSS = ru.Maxrss
			o.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	if err != nil {
		msg, _ := os.ReadFile(errf.Name())
		msg = bytes.TrimSpace(msg)
		if len(msg) > 1000 {
			msg = append(msg[:1000], "..."...)
		}
		return o, fmt.Errorf("%s %s: %w: %s", r.Name, strings.Join(args, " "), err, msg)
	}
	return o, nil
}
