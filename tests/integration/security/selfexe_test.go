package security

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/corral-oci/corral/libcontainer"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// The CVE-2019-5736 attacker (testdata/syscaller exeattack) runs as the
// container's init until goFile appears in the container.
const goFile = "/tmp/go"

// exeRootfs is a rootfs with the attacker, the libraries the runtime's
// (this test's) binary needs to run inside, and /evil, a program whose
// interpreter is /proc/self/exe: exec'ing it runs the binary of whoever
// execs it, the runtime, as the container's program.
func exeRootfs(t *testing.T) string {
	t.Helper()
	rootfs := newRootfs(t)
	installSyscaller(t, rootfs)
	itest.InstallSharedLibs(t, rootfs)
	if err := os.WriteFile(filepath.Join(rootfs, "evil"), []byte("#!/proc/self/exe\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return rootfs
}

func hashFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// checkExeReport fails the test for every way the attacker's report shows
// the runtime's binary writable: a handle reopened for writing (PWNED), a
// handle of the binary on a writable mount and not a sealed memfd (only
// ETXTBSY, the binary being busy, stood in the way: once the runtime
// exits, the write works), the same seen by the binary itself (SELF).
func checkExeReport(t *testing.T, report string) {
	t.Helper()
	held, self := 0, 0
	for _, l := range strings.Split(report, "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "PWNED":
			t.Errorf("CVE-2019-5736: the runtime's binary was opened for writing and written through /proc/<pid>/exe: %s", l)
		case "HELD":
			held++
			if strings.Contains(l, "rdonly=false") && strings.Contains(l, "sealed=false") {
				t.Errorf("CVE-2019-5736: the attacker holds a handle of the runtime's binary on a writable mount, not a sealed memfd: %s", l)
			}
		case "SELF":
			self++
			if strings.Contains(l, "rdonly=false") && strings.Contains(l, "sealed=false") {
				t.Errorf("CVE-2019-5736: the runtime's binary runs in the container from a writable mount: %s", l)
			}
			if strings.Contains(l, "write=opened") {
				t.Errorf("CVE-2019-5736: the runtime's binary opened itself for writing inside the container: %s", l)
			}
		}
	}
	if self == 0 {
		t.Errorf("the runtime's binary never ran as the container's program (/evil); the attack did not happen:\n%s", report)
	}
	if held == 0 {
		t.Errorf("the attacker never got a handle of the runtime's binary; the attack did not happen:\n%s", report)
	}
	if !strings.Contains(report, "DONE") {
		t.Errorf("the attacker did not finish:\n%s", report)
	}
}

// evilExec is the exec that runs the runtime's binary as the container's
// program, in the part roleExeAttack.
var evilExec = execJob{Args: []string{"/evil"}, Env: []string{"PATH=/bin", envRole + "=" + roleExeAttack}}

// TestCVE_2019_5736_OverwriteRuntimeThroughProcExe performs CVE-2019-5736
// (runc binary overwrite through /proc/self/exe) against a runtime that
// stays alive, this test process: an attacker in the container grabs
// /proc/<pid>/exe of every process it sees while the test execs into the
// container again and again (each exec runs the runtime's binary in the
// container until it execs the program) and runs /evil, whose interpreter
// #!/proc/self/exe makes the runtime's binary the container's program.
// The test binary must be unchanged, and no handle the attacker got may
// reach the binary through a writable mount.
func TestCVE_2019_5736_OverwriteRuntimeThroughProcExe(t *testing.T) {
	guardMounts(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	before := hashFile(t, exe)
	rootfs := exeRootfs(t)
	out := &syncBuffer{}
	init := &libcontainer.Process{Args: []string{"/bin/syscaller", "exeattack", goFile}, Env: []string{"PATH=/bin"},
		Stdout: out, Stderr: out, Init: true}
	c := startProcess(t, newConfig(t, rootfs), init)
	for i := 0; i < 10; i++ {
		if _, code, err := execIn(t, c, []string{"/bin/true"}); err != nil || code != 0 {
			t.Fatalf("exec %d: exit %d, %v", i, code, err)
		}
	}
	for i := 0; i < 2; i++ {
		got, code, err := execIn(t, c, evilExec.Args, func(p *libcontainer.Process) { p.Env = evilExec.Env })
		if err != nil || code != 0 {
			t.Fatalf("exec /evil: exit %d, %v: %s", code, err, got)
		}
		out.Write([]byte(got))
	}
	if err := os.WriteFile(filepath.Join(rootfs, goFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := waitTimeout(init, 20*time.Second); err != nil {
		t.Fatalf("attacker: %v", err)
	}
	t.Logf("attacker's report:\n%s", out.String())
	checkExeReport(t, out.String())
	if hashFile(t, exe) != before {
		t.Fatalf("CVE-2019-5736: the runtime's binary %s changed", exe)
	}
}

// TestCVE_2019_5736_OverwriteExitedRuntime is CVE-2019-5736 as it was
// exploited: the runtime (a copy of this binary, so that nothing else
// runs it) starts the container, execs /evil and /bin/true into it and
// exits, as `runc run -d` and `runc exec` do. With the runtime gone its
// binary is no longer busy (no ETXTBSY): the attacker's handles, reopened
// for writing, must still fail, and the copy must be unchanged.
func TestCVE_2019_5736_OverwriteExitedRuntime(t *testing.T) {
	guardMounts(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	runtimeCopy := filepath.Join(dir, "runtime")
	copyFile(t, exe, runtimeCopy, 0o755)
	before := hashFile(t, runtimeCopy)
	rootfs := exeRootfs(t)
	cfg := newConfig(t, rootfs)
	job := runtimeJob{
		Root:   t.TempDir(),
		ID:     randomID(t),
		Config: cfg,
		Init:   []string{"/bin/syscaller", "exeattack", goFile},
		Output: filepath.Join(dir, "output"),
		Execs:  []execJob{{Args: []string{"/bin/true"}, Env: []string{"PATH=/bin"}}, evilExec, {Args: []string{"/bin/true"}, Env: []string{"PATH=/bin"}}},
	}
	b, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	jobFile := filepath.Join(dir, "job.json")
	if err := os.WriteFile(jobFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	state := snapshot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, runtimeCopy)
	cmd.Env = []string{envRole + "=" + roleRuntime, envJob + "=" + jobFile}
	runOut, runErr := cmd.CombinedOutput()
	defer func() {
		c, err := libcontainer.Load(job.Root, job.ID)
		if err != nil {
			t.Errorf("load the container the runtime left: %v", err)
			return
		}
		if err := c.Destroy(); err != nil {
			t.Errorf("destroy: %v", err)
		}
		checkNoLeaks(t, state, job.Root, job.ID, cfg)
	}()
	if runErr != nil {
		t.Fatalf("runtime: %v\n%s\n%s", runErr, runOut, readFile(job.Output))
	}
	// The runtime has exited: now the attacker writes.
	if err := os.WriteFile(filepath.Join(rootfs, goFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if !itest.WaitFor(10*time.Second, func() bool { return strings.Contains(readFile(job.Output), "DONE") }) {
		t.Fatal("no report from the attacker after 10s")
	}
	report := readFile(job.Output)
	t.Logf("attacker's report:\n%s", report)
	checkExeReport(t, report)
	if hashFile(t, runtimeCopy) != before {
		t.Fatalf("CVE-2019-5736: the runtime's binary %s was overwritten from the container", runtimeCopy)
	}
}

// TestCVE_2019_5736_InitNotDumpable: while init waits for start it runs
// the runtime's binary in the container and holds the runtime's fds,
// among them the handle of that binary; it must not be dumpable, so that
// the container's processes can neither follow /proc/1/exe nor reach its
// fds through /proc/1/fd.
func TestCVE_2019_5736_InitNotDumpable(t *testing.T) {
	guardMounts(t)
	root := t.TempDir()
	before := snapshot(t)
	cfg := newConfig(t, busybox)
	id := randomID(t)
	c, err := libcontainer.Create(root, id, cfg)
	if err != nil {
		t.Fatal(err)
	}
	init := &libcontainer.Process{Args: []string{"true"}, Env: []string{"PATH=/bin"}, Init: true}
	defer func() {
		if err := c.Destroy(); err != nil {
			t.Errorf("destroy: %v", err)
		}
		waitTimeout(init, 10*time.Second)
		checkNoLeaks(t, before, root, id, cfg)
	}()
	if err := c.Start(init); err != nil {
		t.Fatal(err)
	}
	// Listing /proc/1/fd is allowed to root; following an entry is not.
	out, _, err := execIn(t, c, []string{"/bin/sh", "-c",
		`readlink /proc/1/exe && echo EXE; for f in /proc/1/fd/*; do readlink $f > /dev/null && echo "FD $f"; done; ` +
			`cat /proc/1/environ > /dev/null && echo ENVIRON; cat /proc/1/maps > /dev/null && echo MAPS; true`})
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"EXE", "FD", "ENVIRON", "MAPS"} {
		if strings.Contains(out, leak+"\n") || strings.Contains(out, leak+" ") {
			t.Errorf("CVE-2019-5736: the container reached /proc/1 of init before start (%s):\n%s", leak, out)
		}
	}
	if !strings.Contains(out, "Permission denied") {
		t.Errorf("no access to /proc/1 was denied:\n%s", out)
	}
}
