package security

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corral-oci/corral/libcontainer/apparmor"
	"github.com/corral-oci/corral/libcontainer/configs"
)

// overmountHook adds a createRuntime hook that, in the container's mount
// namespace, after its /proc is mounted and before pivot_root (and so
// before the runtime writes sysctls and the OOM score), binds each source
// over its target, both host paths in that namespace.
func overmountHook(t *testing.T, cfg *configs.Config, binds map[string]string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for src, dst := range binds {
		pairs = append(pairs, src+"="+dst)
	}
	cfg.Hooks = configs.Hooks{configs.CreateRuntime: {configs.NewCommandHook(configs.Command{
		Path: exe, Args: []string{exe},
		Env: []string{envRole + "=" + roleOvermountHook, envBinds + "=" + strings.Join(pairs, ";"), "PATH=/usr/sbin:/usr/bin:/sbin:/bin"},
	})}}
}

// nsRead reads a procfs file as a process in pid's namespace of kind ns
// sees it (a fresh process of the host in that namespace, not through the
// container's /proc).
func nsRead(t *testing.T, pid int, ns, path string) string {
	t.Helper()
	out, err := exec.Command("nsenter", fmt.Sprintf("--%s=/proc/%d/ns/%s", ns, pid, ns), "cat", path).CombinedOutput()
	if err != nil {
		t.Fatalf("nsenter --%s cat %s: %v: %s", ns, path, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestCVE_2025_52881_ProcfsWritesRedirected: CVE-2025-52881 (a racing
// container with shared mounts bind-mounts over the /proc files the
// runtime is about to write, so that the runtime's writes go elsewhere:
// a sysctl value into a file of the attacker's choice, an LSM label into
// a no-op file). A createRuntime hook plays the attacker: it binds host
// decoy files over the container's /proc/sys/kernel/shmmax,
// /proc/sys/net/ipv4/ip_forward and /proc/1/oom_score_adj. The runtime
// must still set the real values, and the decoys must be untouched.
func TestCVE_2025_52881_ProcfsWritesRedirected(t *testing.T) {
	guardMounts(t)
	if apparmor.IsEnabled() {
		t.Log("AppArmor is enabled, but this test does not yet redirect /proc/self/attr writes")
	} else {
		t.Log("AppArmor is off on this host: the LSM label half of the attack is not tried")
	}
	dir := t.TempDir()
	decoy := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("decoy\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg := newConfig(t, busybox)
	cfg.Sysctl = map[string]string{"kernel.shmmax": "12345678", "net.ipv4.ip_forward": "1"}
	cfg.OomScoreAdj = ptr(456)
	decoys := map[string]string{
		decoy("shmmax"):     filepath.Join(busybox, "proc/sys/kernel/shmmax"),
		decoy("ip_forward"): filepath.Join(busybox, "proc/sys/net/ipv4/ip_forward"),
		decoy("oom"):        filepath.Join(busybox, "proc/1/oom_score_adj"),
	}
	overmountHook(t, cfg, decoys)
	c, p, _ := startScript(t, cfg, "sleep 1000")
	pid, err := p.Pid()
	if err != nil {
		t.Fatal(err)
	}
	for src := range decoys {
		if got := readFile(src); got != "decoy\n" {
			t.Errorf("CVE-2025-52881: the runtime wrote %q into the decoy %s bound over its /proc file", got, src)
		}
	}
	if got := nsRead(t, pid, "ipc", "/proc/sys/kernel/shmmax"); got != "12345678" {
		t.Errorf("kernel.shmmax of the container is %s, want 12345678", got)
	}
	if got := nsRead(t, pid, "net", "/proc/sys/net/ipv4/ip_forward"); got != "1" {
		t.Errorf("net.ipv4.ip_forward of the container is %s, want 1", got)
	}
	if got := strings.TrimSpace(readFile(fmt.Sprintf("/proc/%d/oom_score_adj", pid))); got != "456" {
		t.Errorf("oom_score_adj of init is %s, want 456", got)
	}
	// The attacker's binds are there for the container to see: the
	// attack happened.
	out, _, err := execIn(t, c, []string{"cat", "/proc/sys/kernel/shmmax"})
	if err != nil || strings.TrimSpace(out) != "decoy" {
		mi, _, _ := execIn(t, c, []string{"cat", "/proc/self/mountinfo"})
		t.Errorf("the decoy is not over the container's shmmax (%q, %v); the attack did not happen\n%s", out, err, mi)
	}
}

// TestCVE_2025_52881_ProcfsWriteToOtherProcfsFile is the variant that
// defeats a check that the file written is on procfs: the file bound
// over shmmax is another real procfs file, the container's shmmni. The
// runtime's write of kernel.shmmax must reach shmmax, not shmmni.
func TestCVE_2025_52881_ProcfsWriteToOtherProcfsFile(t *testing.T) {
	guardMounts(t)
	cfg := newConfig(t, busybox)
	cfg.Sysctl = map[string]string{"kernel.shmmax": "12345678"}
	proc := filepath.Join(busybox, "proc/sys/kernel")
	overmountHook(t, cfg, map[string]string{filepath.Join(proc, "shmmni"): filepath.Join(proc, "shmmax")})
	c, p, _ := startScript(t, cfg, "sleep 1000")
	pid, err := p.Pid()
	if err != nil {
		t.Fatal(err)
	}
	host := nsRead(t, os.Getpid(), "ipc", "/proc/sys/kernel/shmmni")
	// The container's shmmax shows shmmni: the attack happened.
	if out, _, err := execIn(t, c, []string{"cat", "/proc/sys/kernel/shmmax"}); err != nil || strings.TrimSpace(out) != host {
		t.Errorf("shmmni is not over the container's shmmax (%q, %v); the attack did not happen", out, err)
	}
	if got := nsRead(t, pid, "ipc", "/proc/sys/kernel/shmmni"); got != host {
		t.Errorf("CVE-2025-52881: the runtime's write of kernel.shmmax went to shmmni (%s, was %s)", got, host)
	}
	if got := nsRead(t, pid, "ipc", "/proc/sys/kernel/shmmax"); got != "12345678" {
		t.Errorf("kernel.shmmax of the container is %s, want 12345678", got)
	}
}
