// Package criu tests checkpoint and restore (issue 9) end to end, through
// the corral command and the libcontainer API, on this kernel with a
// working criu: $CORRAL_CRIU, /opt/criu-trixie/bin/criu (which
// ../shared/criu/install.sh installs), or criu in $PATH, the first whose
// `criu check` passes and that dumps and restores a sleep here within a
// few seconds. Without one every test skips, saying why: on some kernels
// `criu check` passes and every dump hangs. The test binary is its own
// container init, as in tests/integration/lib.
//
// tests/vm/criu.sh runs the suite where criu works: in the cgroup v2 VM
// of ../shared/vm, with Debian's criu.
package criu

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/opencontainers/cgroups/devices"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
	_ "github.com/corral-oci/corral/libcontainer/nsenter"
	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		runtime.GOMAXPROCS(1)
		runtime.LockOSThread()
		libcontainer.Init()
		panic("libcontainer.Init returned")
	}
}

var (
	// busybox is the shared root filesystem; containers mount it
	// read-only.
	busybox string
	// corralBin is the corral binary under test.
	corralBin string
	// criuPath is a criu that works here, "" when there is none;
	// noCriu then says why.
	criuPath string
	noCriu   string
)

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("skipping the checkpoint/restore tests: they need root to make containers")
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	if busybox, err = itest.Busybox(); err != nil {
		return itest.Fail(err)
	}
	criuPath, noCriu = findCriu()
	if criuPath == "" {
		// Every test skips: no corral to build.
		fmt.Println("checkpoint/restore tests will skip:", noCriu)
		return m.Run()
	}
	tmp, err := os.MkdirTemp("", "corral-criu-test-")
	if err != nil {
		return itest.Fail(err)
	}
	defer os.RemoveAll(tmp)
	if corralBin, err = itest.BuildCorral(tmp); err != nil {
		return itest.Fail(err)
	}
	itest.OpenLibraryHandles()
	code := m.Run()
	itest.RemoveCgroupParent(cgroupParent)
	itest.RemoveCgroupParent(libCgroupParent)
	return code
}

// findCriu returns the first criu whose `criu check` passes and that
// checkpoints and restores a process here, or why there is none.
func findCriu() (path, why string) {
	var candidates []string
	if p := os.Getenv("CORRAL_CRIU"); p != "" {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/opt/criu-trixie/bin/criu")
	if p, err := exec.LookPath("criu"); err == nil {
		candidates = append(candidates, p)
	}
	var reasons []string
	for i, c := range candidates {
		if slices.Contains(candidates[:i], c) {
			continue
		}
		if _, err := os.Stat(c); err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: %v", c, err))
			continue
		}
		out, err := exec.Command(c, "check").CombinedOutput()
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: `criu check` failed (%v): %s", c, err, lastLine(string(out))))
			continue
		}
		if err := dumpRestoreSleep(c); err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: %v", c, err))
			continue
		}
		return c, ""
	}
	if len(reasons) == 0 {
		return "", "no criu: set CORRAL_CRIU, run ../shared/criu/install.sh, or install criu"
	}
	return "", "no working criu: " + strings.Join(reasons, "; ")
}

// preflightTimeout bounds each criu run of the preflight. A dump or a
// restore of a sleep takes a fraction of a second on a host and a few
// seconds in the emulated VM of tests/vm/criu.sh; where criu hangs, the
// tests must not wait for it test after test.
const preflightTimeout = 10 * time.Second

// dumpRestoreSleep checks that criu can checkpoint and restore a sleep of
// the busybox rootfs, each within preflightTimeout: `criu check` passes
// on kernels where every dump hangs in criu's parasite (6.18 here, with
// criu 3.17 and 4.1). Whatever it starts it kills, on a timeout too.
func dumpRestoreSleep(criuBin string) error {
	dir, err := os.MkdirTemp("", "corral-criu-preflight-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// In a session of its own, so that criu dumps it without
	// --shell-job.
	sleep := exec.Command(filepath.Join(busybox, "bin/sleep"), "1000")
	sleep.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := sleep.Start(); err != nil {
		return fmt.Errorf("start a sleep to dump: %w", err)
	}
	pid := sleep.Process.Pid
	dumped := false
	defer func() {
		if !dumped {
			sleep.Process.Kill()
			sleep.Wait()
		}
	}()
	dump := exec.Command(criuBin, "dump", "-t", strconv.Itoa(pid), "-D", dir, "-o", "dump.log", "-v4")
	if err := runBounded(dump, preflightTimeout); err != nil {
		return fmt.Errorf("%s (%s)", describe("dump", err), logEnd(filepath.Join(dir, "dump.log")))
	}
	// The dump killed it (the kill is for a criu that did not); reaped,
	// its pid is free for the restore.
	sleep.Process.Kill()
	sleep.Wait()
	dumped = true

	// criu restore -d leaves the restored sleep behind when it ends: as a
	// subreaper, this process adopts it, to kill and reap it.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("become a subreaper: %w", err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	pidfile := filepath.Join(dir, "restored.pid")
	restore := exec.Command(criuBin, "restore", "-d", "-D", dir, "-o", "restore.log", "-v4", "--pidfile", pidfile)
	err = runBounded(restore, preflightTimeout)
	// The restored sleep, if criu got that far, has the dumped one's
	// pid.
	restored := pid
	if b, rerr := os.ReadFile(pidfile); rerr == nil {
		if n, aerr := strconv.Atoi(strings.TrimSpace(string(b))); aerr == nil {
			restored = n
		}
	}
	alive := unix.Kill(restored, 0) == nil
	reap(restored)
	switch {
	case err != nil:
		return fmt.Errorf("%s (%s)", describe("restore", err), logEnd(filepath.Join(dir, "restore.log")))
	case !alive:
		return fmt.Errorf("criu restore of a dumped sleep: no sleep running after it (%s)", logEnd(filepath.Join(dir, "restore.log")))
	}
	return nil
}

// reap kills pid, a child of this process or an orphan it adopted as a
// subreaper, and waits a second at most for it to end.
func reap(pid int) {
	if unix.Kill(pid, unix.SIGKILL) != nil {
		return
	}
	for range 100 {
		if wpid, err := unix.Wait4(pid, nil, unix.WNOHANG, nil); wpid == pid || err != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// errTimeout is a criu run that did not end in preflightTimeout.
var errTimeout = errors.New("timed out")

// runBounded runs cmd in a process group of its own, killed whole after
// timeout.
func runBounded(cmd *exec.Cmd, timeout time.Duration) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		return err
	case <-time.After(timeout):
		unix.Kill(-cmd.Process.Pid, unix.SIGKILL)
		<-exited
		return errTimeout
	}
}

// describe says what a criu run of the preflight did wrong.
func describe(op string, err error) string {
	if errors.Is(err, errTimeout) {
		return fmt.Sprintf("criu %s hangs on this kernel (%s): a %s of a sleep did not end in %s", op, kernelRelease(), op, preflightTimeout)
	}
	return fmt.Sprintf("criu %s of a sleep failed: %v", op, err)
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// logEnd is the last line of a criu log, or why there is none.
func logEnd(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "no log: " + err.Error()
	}
	return filepath.Base(path) + " ends: " + lastLine(string(b))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// requireCriu skips the test when no criu works here.
func requireCriu(t *testing.T) {
	t.Helper()
	if criuPath == "" {
		t.Skip(noCriu)
	}
}

// memTracking reports whether criu can pre-dump here (soft-dirty page
// tracking), and why not.
func memTracking() (bool, string) {
	out, err := exec.Command(criuPath, "check", "--feature", "mem_dirty_track").CombinedOutput()
	if err != nil {
		return false, fmt.Sprintf("criu check --feature mem_dirty_track: %v: %s", err, lastLine(string(out)))
	}
	return true, ""
}
