package security

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// hooksCorral is the corral binary with the test hooks (internal/faults),
// built once for the tests that pause it.
var hooksCorral = sync.OnceValues(func() (string, error) {
	dir := filepath.Join(workDir, "hooks-bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return itest.BuildCorral(dir, itest.TestHooks)
})

// TestExecSetupInvisible (issue 17 point 2): while `corral exec` sets up
// the process it runs, no process in the container's pid namespace may
// hold more than the program will: a process of the container allowed to
// ptrace (CAP_SYS_PTRACE, no user namespace) could make such a thread
// call sethostname for it. The exec child is paused mid-setup, before it
// changes its user (a fault point), and every thread of every process in
// the container's pid namespace but those already there is compared with
// the program's own credentials (cat, reading its status), as root and as
// a user. Before the fix the setup was forked into the pid namespace
// and its Go threads held the runtime's capabilities, bounding set and
// no seccomp filter or no_new_privs.
func TestExecSetupInvisible(t *testing.T) {
	bin, err := hooksCorral()
	if err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"0:0", "1000:1000"} {
		t.Run("uid"+strings.Split(user, ":")[0], func(t *testing.T) {
			rootfs := newRootfs(t)
			bundle := filepath.Dir(rootfs)
			root := t.TempDir()
			id := randomID(t)
			corral := func(env []string, args ...string) *exec.Cmd {
				cmd := exec.Command(bin, append([]string{"--root", root}, args...)...)
				cmd.Env = append(os.Environ(), env...)
				return cmd
			}
			if out, err := corral(nil, "spec", "--bundle", bundle).CombinedOutput(); err != nil {
				t.Fatalf("spec: %v: %s", err, out)
			}
			var spec specs.Spec
			if err := json.Unmarshal([]byte(readFile(filepath.Join(bundle, "config.json"))), &spec); err != nil {
				t.Fatal(err)
			}
			spec.Root = &specs.Root{Path: rootfs}
			spec.Process.Terminal = false
			spec.Process.Args = []string{"sleep", "1000"}
			spec.Process.NoNewPrivileges = true
			spec.Linux.Seccomp = &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdirat"}, Action: specs.ActErrno}},
			}
			spec.Linux.CgroupsPath = "/" + cgroupParent + "/" + id
			b, err := json.Marshal(&spec)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o644); err != nil {
				t.Fatal(err)
			}
			// Detached, the container keeps its stdio: a file, not a
			// pipe whose end would never come.
			log, err := os.Create(filepath.Join(bundle, "run.log"))
			if err != nil {
				t.Fatal(err)
			}
			defer log.Close()
			run := corral(nil, "run", "-d", "--bundle", bundle, id)
			run.Stdout, run.Stderr = log, log
			if err := run.Run(); err != nil {
				t.Fatalf("run: %v: %s", err, readFile(log.Name()))
			}
			t.Cleanup(func() {
				if out, err := corral(nil, "delete", "-f", id).CombinedOutput(); err != nil {
					t.Errorf("delete: %v: %s", err, out)
				}
			})
			final, err := corral(nil, "exec", "--user", user, id, "cat", "/proc/self/status").Output()
			if err != nil {
				t.Fatalf("exec cat: %v", err)
			}
			if f := itest.StatusFields(string(final)); f["Seccomp"] != "2" || f["NoNewPrivs"] != "1" {
				t.Fatalf("the program runs without its filter or no_new_privs: %v", f)
			}
			out, err := corral(nil, "state", id).Output()
			if err != nil {
				t.Fatalf("state: %v", err)
			}
			var st specs.State
			if err := json.Unmarshal(out, &st); err != nil {
				t.Fatal(err)
			}
			pidNS, err := os.Readlink("/proc/" + strconv.Itoa(st.Pid) + "/ns/pid")
			if err != nil {
				t.Fatal(err)
			}
			before := pidsIn(pidNS)

			// The setup writes the pause file in the container's mount
			// namespace: in the rootfs, here.
			paused := corral([]string{"CORRAL_TEST_PAUSE_AT=exec:setup", "CORRAL_TEST_PAUSE_FILE=/exec-paused"},
				"exec", "--user", user, id, "true")
			if err := paused.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- paused.Wait() }()
			defer func() {
				paused.Process.Kill()
				<-done
			}()
			deadline := time.Now().Add(20 * time.Second)
			for {
				if _, err := os.Stat(filepath.Join(rootfs, "exec-paused")); err == nil {
					break
				}
				select {
				case err := <-done:
					t.Fatalf("corral exec ended before its setup reached the pause point: %v", err)
				default:
				}
				if time.Now().After(deadline) {
					t.Fatal("the exec's setup did not reach its pause point in 20s")
				}
				time.Sleep(5 * time.Millisecond)
			}
			for pid := range pidsIn(pidNS) {
				if before[pid] {
					continue
				}
				threads, err := itest.ThreadStatuses(pid)
				if errors.Is(err, os.ErrNotExist) {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range itest.ThreadCredentials(threads, string(final)) {
					t.Errorf("process %d in the container's pid namespace, mid-exec: %s", pid, p)
				}
			}
		})
	}
}

// pidsIn returns the host pids of the processes in the pid namespace ns
// (the target of a /proc/<pid>/ns/pid link).
func pidsIn(ns string) map[int]bool {
	out := map[int]bool{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if l, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && l == ns {
			out[pid] = true
		}
	}
	return out
}
