package security

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corral-oci/corral/libcontainer"
)

// whereAmI prints INSIDE when the process's cwd is inside its root, and
// OUTSIDE with a listing when it is not: climbing ".." from a cwd inside
// the root stops at the root (the kernel clamps it there), from a cwd
// outside it reaches the host's / instead.
const whereAmI = `d=.; i=0; while [ $i -lt 64 ] && [ "$(stat -c %d:%i $d)" != "$(stat -c %d:%i $d/..)" ]; do d=$d/..; i=$((i+1)); done; ` +
	`if [ "$(stat -c %d:%i $d)" = "$(stat -c %d:%i /)" ]; then echo INSIDE; else echo OUTSIDE; ls $d; fi`

// holdHostFDs opens host directories in the test process, as a runtime
// holds its state directory or cgroup open, for the length of the test:
// any of them reaching a container would be a way out.
func holdHostFDs(t *testing.T) string {
	t.Helper()
	hostDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(hostDir, "escape"), []byte("#!/bin/sh\necho ESCAPED\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "/sys/fs/cgroup/pids", "/sys/fs/cgroup", hostDir, "/proc/self/fd"} {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		t.Cleanup(func() { f.Close() })
	}
	return hostDir
}

// escapePath reaches hostDir/escape from the directory fd n would be if
// it were a host directory: up to the host's / and down again.
func escapePath(n int, hostDir string) string {
	return fmt.Sprintf("/proc/self/fd/%d%s%s/escape", n, strings.Repeat("/..", 16), hostDir)
}

// TestCVE_2024_21626_InitCwdThroughLeakedFD: CVE-2024-21626 (a host
// directory fd leaked into init, so process.cwd /proc/self/fd/N left the
// process in the host's filesystem). For N from 3 to 30, init with that
// cwd must fail to start or be inside its root; and a program reached
// through /proc/self/fd/N/../.. (the exec variant of the attack) must not
// run from the host.
func TestCVE_2024_21626_InitCwdThroughLeakedFD(t *testing.T) {
	guardMounts(t)
	hostDir := holdHostFDs(t)
	cfg := newConfig(t, busybox)
	refused := 0
	for n := 3; n <= 30; n++ {
		cwd := fmt.Sprintf("/proc/self/fd/%d", n)
		res, err := run(t, cfg, []string{"/bin/sh", "-c", whereAmI}, func(p *libcontainer.Process) { p.Cwd = cwd })
		if err != nil {
			refused++
			if !strings.Contains(err.Error(), "no such file") && !strings.Contains(err.Error(), "not a directory") {
				// A descriptor that was there: say how it was refused.
				t.Logf("cwd %s: %v", cwd, err)
			}
			if !strings.Contains(err.Error(), "cwd") {
				t.Errorf("cwd %s: the error does not name the cwd: %v", cwd, err)
			}
			continue
		}
		if !strings.HasPrefix(res.Stdout, "INSIDE") {
			t.Errorf("CVE-2024-21626: init's cwd %s is outside the container: %s%s", cwd, res.Stdout, res.Stderr)
		}
	}
	t.Logf("%d of 28 cwds refused", refused)
	for n := 3; n <= 12; n++ {
		res, err := run(t, cfg, []string{escapePath(n, hostDir)})
		if err == nil && strings.Contains(res.Stdout, "ESCAPED") {
			t.Errorf("CVE-2024-21626: init ran the host's %s/escape through fd %d", hostDir, n)
		}
	}
}

// TestCVE_2024_21626_ExecCwdThroughLeakedFD is the same attack through
// `exec --cwd`: an exec'd process with cwd /proc/self/fd/N, or running
// /proc/self/fd/N/../../<host path>, must fail or stay inside.
func TestCVE_2024_21626_ExecCwdThroughLeakedFD(t *testing.T) {
	guardMounts(t)
	hostDir := holdHostFDs(t)
	c, _, _ := startScript(t, newConfig(t, busybox), "sleep 1000")
	refused := 0
	for n := 3; n <= 30; n++ {
		cwd := fmt.Sprintf("/proc/self/fd/%d", n)
		out, _, err := execIn(t, c, []string{"/bin/sh", "-c", whereAmI}, func(p *libcontainer.Process) { p.Cwd = cwd })
		if err != nil {
			refused++
		} else if !strings.HasPrefix(out, "INSIDE") {
			t.Errorf("CVE-2024-21626: exec'd process's cwd %s is outside the container: %s", cwd, out)
		}
		out, _, err = execIn(t, c, []string{escapePath(n, hostDir)})
		if err == nil && strings.Contains(out, "ESCAPED") {
			t.Errorf("CVE-2024-21626: an exec'd process ran the host's %s/escape through fd %d", hostDir, n)
		}
	}
	t.Logf("%d of 28 cwds refused", refused)
}

// fdListing lists the fds the shell passes to ls, and where they point;
// ls's own handle of the directory it lists, which it shows without a
// target, is left out.
const fdListing = `ls -l /proc/self/fd | while read -r mode links u g size m d tm fd arrow target; do ` +
	`[ "$arrow" = "->" ] && echo "FD $fd $target"; done; true`

// checkFDs fails for any fd beyond stdio and the n passed with
// ExtraFiles, and for any that points at a host path.
func checkFDs(t *testing.T, who, out string, extra int, hostDir string) {
	t.Helper()
	fds := 0
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) < 2 || f[0] != "FD" {
			continue
		}
		fds++
		target := strings.Join(f[2:], " ")
		var n int
		fmt.Sscan(f[1], &n)
		switch {
		case n >= 3+extra:
			t.Errorf("CVE-2024-21626: fd %s (%s) reached the %s", f[1], target, who)
		case strings.Contains(target, hostDir), target == "/", strings.HasPrefix(target, "/sys/fs/cgroup"):
			t.Errorf("CVE-2024-21626: fd %s of the %s points at the host's %s", f[1], who, target)
		}
	}
	if fds < 3 {
		t.Errorf("no fds listed for the %s:\n%s", who, out)
	}
}

// TestCVE_2024_21626_NoLeakedFDs lists the fds of init's program and of
// an exec'd program, each given one extra file: only 0, 1, 2 and 3 may be
// open, none of them the host directories the runtime holds.
func TestCVE_2024_21626_NoLeakedFDs(t *testing.T) {
	guardMounts(t)
	hostDir := holdHostFDs(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	withExtra := func(p *libcontainer.Process) { p.ExtraFiles = []*os.File{w} }
	cfg := newConfig(t, busybox)
	checkFDs(t, "init's program", sh(t, cfg, fdListing, withExtra), 1, hostDir)
	c, _, _ := startScript(t, cfg, "sleep 1000")
	out, _, err := execIn(t, c, []string{"/bin/sh", "-c", fdListing}, withExtra)
	if err != nil {
		t.Fatal(err)
	}
	checkFDs(t, "exec'd program", out, 1, hostDir)
	out, _, err = execIn(t, c, []string{"/bin/sh", "-c", fdListing})
	if err != nil {
		t.Fatal(err)
	}
	checkFDs(t, "exec'd program without extra files", out, 0, hostDir)
}
