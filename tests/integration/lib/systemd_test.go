package lib

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	systemdDbus "github.com/coreos/go-systemd/v22/dbus"
	dbus "github.com/godbus/dbus/v5"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs/validate"
	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// needSystemd skips a test of the systemd driver outside the systemd VM
// lane, which has systemd as PID 1.
func needSystemd(t *testing.T) {
	t.Helper()
	if !systemdCgroup {
		t.Skip("skipping: needs systemd as PID 1 and CORRAL_TEST_SYSTEMD_CGROUP=1 (tests/vm/systemd.sh runs it)")
	}
}

// unitProperties reads properties of a unit as systemctl shows them.
func unitProperties(t *testing.T, unit string, names ...string) map[string]string {
	t.Helper()
	args := []string{"show", unit}
	for _, n := range names {
		args = append(args, "-p", n)
	}
	out, err := exec.Command("systemctl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("systemctl show %s: %v: %s", unit, err, out)
	}
	props := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			props[k] = v
		}
	}
	return props
}

// TestSystemdUnit: with the systemd driver the container runs in a scope
// that systemd made around it, with its limits as unit properties (and
// in the cgroup), the org.systemd.property annotations' properties, Set,
// pause and resume, stats, and Destroy removing the unit and its cgroup.
func TestSystemdUnit(t *testing.T) {
	needSystemd(t)
	before := snapshot(t)
	cfg := newConfig(t, busybox)
	cfg.Cgroups.Resources.Memory = 64 << 20
	limit := int64(50)
	cfg.Cgroups.Resources.PidsLimit = &limit
	cfg.Cgroups.SystemdProps = []systemdDbus.Property{{Name: "TimeoutStopUSec", Value: dbus.MakeVariant(uint64(123456789))}}
	unit := systemdUnit(cfg.Cgroups)
	dir := cgroupDir(cfg)
	root := t.TempDir()
	id := randomID(t)
	c, err := libcontainer.Create(root, id, cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	p := &libcontainer.Process{Args: []string{"/bin/sh", "-c", `echo started; i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done`},
		Env: []string{"PATH=/bin"}, Stdout: out, Stderr: out, Init: true}
	if err := c.Run(p); err != nil {
		c.Destroy()
		t.Fatal(err)
	}
	destroyed := false
	defer func() {
		if !destroyed {
			c.Destroy()
			p.Wait()
		}
	}()
	pid, err := p.Pid()
	if err != nil {
		t.Fatal(err)
	}
	props := unitProperties(t, unit, "ActiveState", "MemoryMax", "TasksMax", "Delegate", "TimeoutStopUSec", "ControlGroup")
	want := map[string]string{"ActiveState": "active", "MemoryMax": "67108864", "TasksMax": "50", "Delegate": "yes",
		"TimeoutStopUSec": "2min 3.456789s", "ControlGroup": strings.TrimPrefix(dir, "/sys/fs/cgroup")}
	for k, v := range want {
		if props[k] != v {
			t.Errorf("unit %s: %s=%q, want %q", unit, k, props[k], v)
		}
	}
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup"); err != nil || strings.TrimSpace(string(b)) != "0::"+want["ControlGroup"] {
		t.Errorf("init's cgroup: %q (%v), want 0::%s", b, err, want["ControlGroup"])
	}
	for f, v := range map[string]string{"memory.max": "67108864", "pids.max": "50"} {
		if b, err := os.ReadFile(filepath.Join(dir, f)); err != nil || strings.TrimSpace(string(b)) != v {
			t.Errorf("%s: %q (%v), want %s", f, b, err, v)
		}
	}

	// Set: systemd's property and the cgroup file both change.
	newCfg := c.Config()
	res := *newCfg.Cgroups.Resources
	res.Memory = 96 << 20
	cg := *newCfg.Cgroups
	cg.Resources = &res
	newCfg.Cgroups = &cg
	if err := c.Set(newCfg); err != nil {
		t.Fatal(err)
	}
	if got := unitProperties(t, unit, "MemoryMax")["MemoryMax"]; got != "100663296" {
		t.Errorf("MemoryMax after Set: %s, want 100663296", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "memory.max")); strings.TrimSpace(string(b)) != "100663296" {
		t.Errorf("memory.max after Set: %q", b)
	}

	// Pause and resume freeze the scope's cgroup.
	if err := c.Pause(); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.Status(); s != libcontainer.Paused {
		t.Errorf("status %s after Pause, want paused", s)
	}
	n := strings.Count(out.String(), "\n")
	time.Sleep(300 * time.Millisecond)
	if m := strings.Count(out.String(), "\n"); m > n+1 {
		t.Errorf("counter went on while paused: %d -> %d", n, m)
	}
	if err := c.Resume(); err != nil {
		t.Fatal(err)
	}
	if !itest.WaitFor(10*time.Second, func() bool { return strings.Count(out.String(), "\n") > n+3 }) {
		t.Errorf("the counter does not count again after Resume: %q", out.String())
	}

	stats, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s := stats.CgroupStats; s.MemoryStats.Usage.Limit != 96<<20 || s.PidsStats.Current < 1 || s.CpuStats.CpuUsage.TotalUsage == 0 {
		t.Errorf("stats: memory limit %d, pids %d, cpu %d; want 96MiB, some, some",
			s.MemoryStats.Usage.Limit, s.PidsStats.Current, s.CpuStats.CpuUsage.TotalUsage)
	}

	destroyed = true
	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}
	p.Wait()
	checkNoLeaks(t, before, root, id, cfg)
}

// TestSystemdBadSlice: a parent slice that systemd does not have is
// refused by Create, naming the field, before anything is made; an
// inactive slice with a unit file is fine.
func TestSystemdBadSlice(t *testing.T) {
	needSystemd(t)
	cfg := newConfig(t, busybox)
	cfg.Cgroups.Parent = "corral-no-such.slice"
	root := t.TempDir()
	id := randomID(t)
	_, err := libcontainer.Create(root, id, cfg)
	var verr *validate.Error
	if !errors.As(err, &verr) || verr.Field != "cgroups.parent" || !strings.Contains(err.Error(), `"corral-no-such.slice" does not exist`) {
		t.Fatalf("create in a slice that does not exist: %v, want a validate.Error naming cgroups.parent and the slice", err)
	}
	if _, err := os.Stat(filepath.Join(root, id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state directory made: %v", err)
	}
	if out, _ := exec.Command("systemctl", "list-units", "--all", "--no-legend", "corral-no-such.slice").Output(); len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("the slice was made: %s", out)
	}

	// machine.slice has a unit file and is inactive until used.
	cfg = newConfig(t, busybox)
	cfg.Cgroups.Parent = "machine.slice"
	want := "0::/machine.slice/" + systemdUnit(cfg.Cgroups)
	if got := mustRun(t, cfg, []string{"cat", "/proc/self/cgroup"}); strings.TrimSpace(got) != want {
		t.Errorf("in machine.slice: %q, want %q", got, want)
	}
}
