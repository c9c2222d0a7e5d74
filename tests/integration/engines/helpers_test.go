package engines

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// cmdTimeout bounds one engine command: a hang is a failure, not a stuck
// test run.
const cmdTimeout = 30 * time.Second

// result is what one command did.
type result struct {
	args           []string
	stdout, stderr string
	// code is the exit code, -1 when the command did not run to its
	// end (err says why).
	code int
	err  error
}

func (r result) String() string {
	s := fmt.Sprintf("%q: exit %d", r.args, r.code)
	if r.err != nil {
		s += fmt.Sprintf(" (%v)", r.err)
	}
	return s + fmt.Sprintf("\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
}

// runCmd runs name with args and env added to the test's environment, to
// its end or until timeout. Its stdout and stderr are files, never pipes:
// an engine's detached helpers (a shim, conmon) may inherit them, and a
// pipe they hold would keep Wait waiting.
func runCmd(timeout time.Duration, env []string, name string, args ...string) result {
	return runCmdInput("", timeout, env, name, args...)
}

// runCmdInput is runCmd with input on the command's stdin (/dev/null
// when empty).
func runCmdInput(input string, timeout time.Duration, env []string, name string, args ...string) result {
	r := result{args: append([]string{name}, args...), code: -1}
	dir, err := os.MkdirTemp("", "corral-engines-out-")
	if err != nil {
		r.err = err
		return r
	}
	defer os.RemoveAll(dir)
	stdout, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		r.err = err
		return r
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		r.err = err
		return r
	}
	defer stderr.Close()

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if input != "" {
		cmd.Stdin = strings.NewReader(input)
	}
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.err = fmt.Errorf("timed out after %v", timeout)
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		r.err = err
	default:
		r.code = 0
	}
	o, _ := os.ReadFile(stdout.Name())
	e, _ := os.ReadFile(stderr.Name())
	r.stdout, r.stderr = string(o), string(e)
	return r
}

// waitFor polls cond every 20ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mountsUnder lists the mount points at or under dir, deepest first: the
// order to unmount them in.
func mountsUnder(dir string) []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 5 {
			continue
		}
		mp := unescapeMountinfo(f[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// unescapeMountinfo undoes the octal escapes (\040 for a space) of
// mountinfo's paths.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v byte
			ok := true
			for _, c := range []byte(s[i+1 : i+4]) {
				if c < '0' || c > '7' {
					ok = false
					break
				}
				v = v*8 + c - '0'
			}
			if ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unmountAll detaches every mount at or under dir and reports those that
// were left (a leak of the engine or of corral).
func unmountAll(t *testing.T, dir string) {
	t.Helper()
	mps := mountsUnder(dir)
	for _, mp := range mps {
		if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			t.Logf("unmount %s: %v", mp, err)
		}
	}
}

// cgroupDirs are the directories of cgroup rel (relative to a
// hierarchy's root) that exist: one per cgroup v1 hierarchy, or the one
// of the unified hierarchy.
func cgroupDirs(rel string) []string {
	dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup/*", rel))
	if d := filepath.Join("/sys/fs/cgroup", rel); isDir(d) {
		dirs = append(dirs, d)
	}
	var out []string
	for _, d := range dirs {
		if isDir(d) {
			out = append(out, d)
		}
	}
	return out
}

// cgroupV2 reports whether /sys/fs/cgroup is the unified hierarchy.
func cgroupV2() bool {
	_, err := os.Stat("/sys/fs/cgroup/cgroup.controllers")
	return err == nil
}

// removeCgroups removes the cgroup directories named rel (relative to a
// hierarchy's root) in every hierarchy, children first. Only cgroups the
// test made are passed here.
func removeCgroups(t *testing.T, rel string) {
	t.Helper()
	for _, d := range cgroupDirs(rel) {
		var all []string
		filepath.WalkDir(d, func(p string, de os.DirEntry, err error) error {
			if err == nil && de.IsDir() {
				all = append(all, p)
			}
			return nil
		})
		sort.Slice(all, func(i, j int) bool { return len(all[i]) > len(all[j]) })
		for _, p := range all {
			// A cgroup with processes cannot go: kill them first.
			if b, err := os.ReadFile(filepath.Join(p, "cgroup.procs")); err == nil {
				for _, f := range strings.Fields(string(b)) {
					var pid int
					if _, err := fmt.Sscan(f, &pid); err == nil && pid > 1 {
						syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			}
			if !waitFor(2*time.Second, func() bool {
				err := os.Remove(p)
				return err == nil || errors.Is(err, os.ErrNotExist)
			}) {
				t.Logf("cannot remove cgroup %s", p)
			}
		}
	}
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// copyTree copies the directory tree src to dst (which must not exist):
// directories, regular files and symlinks, with their modes and owners.
// It stays on src's file system: a mount that another test has on a
// directory of the shared rootfs is not part of it.
func copyTree(src, dst string) error {
	var root syscall.Stat_t
	if err := syscall.Lstat(src, &root); err != nil {
		return err
	}
	return filepath.WalkDir(src, func(p string, de os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Dev != root.Dev {
			if fi.IsDir() {
				// Keep the mount point, empty.
				if err := os.Mkdir(target, 0o755); err != nil {
					return err
				}
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case fi.Mode().IsDir():
			if err := os.Mkdir(target, fi.Mode().Perm()); err != nil {
				return err
			}
			if err := os.Chmod(target, fi.Mode().Perm()|fi.Mode()&(os.ModeSticky|os.ModeSetuid|os.ModeSetgid)); err != nil {
				return err
			}
		case fi.Mode()&os.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(l, target); err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.WriteFile(target, b, fi.Mode().Perm()); err != nil {
				return err
			}
		default:
			// Devices, sockets, fifos: a test rootfs needs none.
			return nil
		}
		return os.Lchown(target, int(st.Uid), int(st.Gid))
	})
}
