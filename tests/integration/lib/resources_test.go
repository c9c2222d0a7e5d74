package lib

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/configs/validate"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

func ptr[T any](v T) *T { return &v }

// startScript starts a container running a shell script and destroys it
// when the test ends. Its output goes to the returned buffer.
func startScript(t *testing.T, cfg *configs.Config, script string) (*libcontainer.Container, *libcontainer.Process, *syncBuffer) {
	t.Helper()
	c, err := libcontainer.Create(t.TempDir(), randomID(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	p := &libcontainer.Process{Args: []string{"/bin/sh", "-c", script}, Env: []string{"PATH=/bin"}, Stdout: out, Stderr: out, Init: true}
	if err := c.Run(p); err != nil {
		c.Destroy()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Destroy(); err != nil {
			t.Errorf("destroy: %v", err)
		}
		p.Wait()
	})
	return c, p, out
}

func TestMemoryLimitOOMKill(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.Cgroups.Resources.Memory = 32 << 20
	cfg.Cgroups.Resources.MemorySwap = 32 << 20
	// The child allocates past the limit; init, which the OOM killer
	// is told to spare, survives to report.
	c, _, out := startScript(t, cfg, `sleep 0.5; (echo 1000 > /proc/self/oom_score_adj; `+
		`exec sh -c 'head -c 100m /dev/zero | tail > /dev/null'); echo status=$?; sleep 1000`)
	oom, err := c.NotifyOOM()
	if err != nil {
		t.Fatal(err)
	}
	// Under emulation (the VM lanes) on a loaded host, the reclaim
	// before the kill has taken 20 s.
	select {
	case <-oom:
	case <-time.After(60 * time.Second):
		t.Fatalf("no OOM event; output: %s", out.String())
	}
	if !itest.WaitFor(10*time.Second, func() bool { return strings.Contains(out.String(), "status=") }) {
		t.Fatalf("no exit status of the allocating process after 10s: %s", out.String())
	}
	if !strings.Contains(out.String(), "status=137") {
		t.Errorf("the allocating process was not killed: %s", out.String())
	}
	stats, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if ms := stats.CgroupStats.MemoryStats; ms.Usage.Limit != 32<<20 || ms.Usage.MaxUsage < 30<<20 {
		t.Errorf("memory stats: limit %d max usage %d", ms.Usage.Limit, ms.Usage.MaxUsage)
	}
}

func TestPidsLimitStopsForkBomb(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.Cgroups.Resources.PidsLimit = ptr(int64(20))
	// The inner shell forks until the limit stops it and dies; its
	// sleeps stay behind, and the outer shell needs no more forks.
	c, _, _ := startScript(t, cfg, `sh -c 'for i in $(seq 40); do sleep 1000 & done' 2>/dev/null; exec sleep 1000`)
	var stats *libcontainer.Stats
	if !itest.WaitFor(10*time.Second, func() bool {
		var err error
		stats, err = c.Stats()
		return err == nil && stats.CgroupStats.PidsStats.Current >= 15
	}) {
		t.Fatalf("the fork bomb has not 15 processes after 10s: %+v", stats)
	}
	time.Sleep(300 * time.Millisecond)
	stats, _ = c.Stats()
	if ps := stats.CgroupStats.PidsStats; ps.Current > 20 || ps.Limit != 20 {
		t.Fatalf("pids %d under a limit of %d", ps.Current, ps.Limit)
	}
}

func TestCPUQuotaThrottles(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.Cgroups.Resources.CpuQuota = 10000
	cfg.Cgroups.Resources.CpuPeriod = 100000
	start := time.Now()
	c, _, _ := startScript(t, cfg, `while :; do :; done`)
	time.Sleep(1500 * time.Millisecond)
	stats, err := c.Stats()
	wall := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	th := stats.CgroupStats.CpuStats.ThrottlingData
	if th.ThrottledPeriods == 0 {
		t.Fatalf("a busy loop under a 10%% quota was never throttled: %+v", th)
	}
	// 10% of one cpu; allow for noise and the shell's start.
	if used := time.Duration(stats.CgroupStats.CpuStats.CpuUsage.TotalUsage); used > wall*3/10 {
		t.Fatalf("used %v of cpu under a 10%% quota in %v", used, wall)
	}
}

func TestPauseResume(t *testing.T) {
	c, _, out := startScript(t, newConfig(t, busybox), `i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done`)
	if !itest.WaitFor(10*time.Second, func() bool { return strings.Count(out.String(), "\n") > 2 }) {
		t.Fatalf("the counter does not count after 10s: %q", out.String())
	}
	if err := c.Pause(); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.Status(); s != libcontainer.Paused {
		t.Fatalf("status %s, want paused", s)
	}
	n := strings.Count(out.String(), "\n")
	time.Sleep(300 * time.Millisecond)
	if m := strings.Count(out.String(), "\n"); m > n+1 {
		t.Fatalf("counter went on while paused: %d -> %d", n, m)
	}
	if err := c.Pause(); !errors.Is(err, libcontainer.ErrPaused) {
		t.Errorf("pause of a paused container: %v, want ErrPaused", err)
	}
	if err := c.Resume(); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.Status(); s != libcontainer.Running {
		t.Fatalf("status %s, want running", s)
	}
	if !itest.WaitFor(10*time.Second, func() bool { return strings.Count(out.String(), "\n") > n+3 }) {
		t.Fatalf("the counter does not count again after 10s: %q", out.String())
	}
}

func TestPauseStoppedContainer(t *testing.T) {
	c, p, _ := startScript(t, newConfig(t, busybox), `exit 0`)
	p.Wait()
	if err := c.Pause(); !errors.Is(err, libcontainer.ErrNotRunning) {
		t.Fatalf("pause of a stopped container: %v, want ErrNotRunning", err)
	}
	if err := c.Resume(); !errors.Is(err, libcontainer.ErrNotPaused) {
		t.Fatalf("resume of a stopped container: %v, want ErrNotPaused", err)
	}
}

func TestDestroyPausedContainer(t *testing.T) {
	cfg := newConfig(t, busybox)
	c, p, _ := startScript(t, cfg, `sleep 1000 & sleep 1000`)
	if err := c.Pause(); err != nil {
		t.Fatal(err)
	}
	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}
	p.Wait()
	checkNoLeaks(t, hostState{mounts: itest.MountPoints(t, itest.TestMount), fds: itest.OpenFDs(t)}, t.TempDir(), "x", cfg)
}

func TestSetRaisesMemoryLimit(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.Cgroups.Resources.Memory = 32 << 20
	c, _, _ := startScript(t, cfg, `sleep 1000`)
	newCfg := c.Config()
	res := *newCfg.Cgroups.Resources
	res.Memory = 64 << 20
	cg := *newCfg.Cgroups
	cg.Resources = &res
	newCfg.Cgroups = &cg
	if err := c.Set(newCfg); err != nil {
		t.Fatal(err)
	}
	stats, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if got := stats.CgroupStats.MemoryStats.Usage.Limit; got != 64<<20 {
		t.Fatalf("memory limit %d after Set, want %d", got, 64<<20)
	}
	if got := c.Config().Cgroups.Resources.Memory; got != 64<<20 {
		t.Fatalf("saved config has memory %d", got)
	}
	// Anything but resources cannot change live.
	bad := c.Config()
	bad.Hostname = "other"
	if err := c.Set(bad); err == nil {
		t.Fatal("Set changed the hostname of a running container")
	}
}

func TestStatsMoveWithWorkload(t *testing.T) {
	c, _, out := startScript(t, newConfig(t, busybox), `sleep 0.3; head -c 20m /dev/zero > /dev/shm/x; `+
		`ping -c 3 -i 0.2 127.0.0.1 >/dev/null; echo done; sleep 1000`)
	before, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if !itest.WaitFor(10*time.Second, func() bool { return strings.Contains(out.String(), "done") }) {
		t.Fatalf("the workload has not finished after 10s: %q", out.String())
	}
	after, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if a, b := after.CgroupStats.MemoryStats.Usage.Usage, before.CgroupStats.MemoryStats.Usage.Usage; a < b+10<<20 {
		t.Errorf("memory usage %d -> %d did not grow with a 20 MiB file in /dev/shm", b, a)
	}
	if a, b := after.CgroupStats.CpuStats.CpuUsage.TotalUsage, before.CgroupStats.CpuStats.CpuUsage.TotalUsage; a <= b {
		t.Errorf("cpu usage did not grow: %d -> %d", b, a)
	}
	if after.CgroupStats.PidsStats.Current == 0 {
		t.Error("pids.current is 0")
	}
	var lo *libcontainer.NetworkInterface
	for _, i := range after.Interfaces {
		if i.Name == "lo" {
			lo = i
		}
	}
	if lo == nil || lo.TxPackets == 0 {
		t.Errorf("no loopback traffic counted: %+v", lo)
	}
}

func TestBadResourcesRefused(t *testing.T) {
	for name, mod := range map[string]func(*configs.Resources){
		"negative memory":         func(r *configs.Resources) { r.Memory = -5 },
		"swap below memory":       func(r *configs.Resources) { r.Memory = 64 << 20; r.MemorySwap = 32 << 20 },
		"cpuset outside":          func(r *configs.Resources) { r.CpusetCpus = "0-4095" },
		"negative pids":           func(r *configs.Resources) { r.PidsLimit = ptr(int64(-7)) },
		"cpu shares out of range": func(r *configs.Resources) { r.CpuShares = 1 },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := newConfig(t, busybox)
			mod(cfg.Cgroups.Resources)
			_, err := run(t, cfg, []string{"true"})
			if !errors.Is(err, validate.ErrInvalid) || !strings.Contains(err.Error(), "cgroups") {
				t.Fatalf("got %v, want a validation error naming the cgroups field", err)
			}
		})
	}
}

func TestCgroupInUseRefused(t *testing.T) {
	first := newConfig(t, busybox)
	startScript(t, first, "sleep 1000")
	second := newConfig(t, busybox)
	second.Cgroups.Name = first.Cgroups.Name
	root := t.TempDir()
	c, err := libcontainer.Create(root, randomID(t), second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	err = c.Run(&libcontainer.Process{Args: []string{"true"}, Init: true})
	if err == nil || !strings.Contains(err.Error(), "container's cgroup is not empty") {
		t.Fatalf("got %v, want a refusal of the busy cgroup", err)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
