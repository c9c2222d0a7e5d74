package cli

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"github.com/corral-oci/corral/tests/integration/internal/corpus"
	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// The tests of this file hold corral to what runc does with the same
// bundle or command (issue 18): where runc warns and goes on, corral
// does too; where runc is unsafe, corral refuses and says why.

// statusLine returns the value of field in /proc/<pid>/status text.
func statusLine(status, field string) string {
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TestAmbientNotInheritable runs the capabilities of `runc spec` of
// Debian's runc 1.1.5: three ambient capabilities and no inheritable set.
// The kernel cannot raise them; runc runs the container without them,
// and so does corral, with a warning.
func TestAmbientNotInheritable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	caps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	id := e.ID()
	bundle := e.Bundle(id, []string{"cat", "/proc/self/status"}, func(s *specs.Spec) {
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps, Ambient: caps}
	})
	r := e.Corral("run", "--bundle", bundle, id)
	if r.Code != 0 {
		t.Fatalf("run: %v", r)
	}
	if !strings.Contains(r.Stderr, "level=warning") || !strings.Contains(r.Stderr, "CAP_NET_BIND_SERVICE") {
		t.Errorf("no warning about the ambient capabilities: %q", r.Stderr)
	}
	if amb, eff := statusLine(r.Stdout, "CapAmb"), statusLine(r.Stdout, "CapEff"); amb != "0000000000000000" || eff != "0000000020000420" {
		t.Errorf("CapAmb %s CapEff %s, want none ambient and the three effective", amb, eff)
	}
}

// TestKillLikeRunc: signal 0 checks that a container lives; `kill --all`
// of a stopped container succeeds (containerd's CRI plugin sends it at pod
// teardown); a container that shares the host's pid namespace gets KILL
// in what is left of it once its init is gone.
func TestKillLikeRunc(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.runDetached([]string{"sleep", "100"})
	e.Must("kill", id, "0")
	e.Must("kill", "--all", id, "0")
	e.Must("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	e.fails([]string{id, "container not running"}, "kill", id, "0")
	e.fails([]string{id, "container not running"}, "kill", id, "KILL")
	e.Must("kill", "--all", id, "9")
	e.Must("delete", id)

	// init leaves a child behind: with no pid namespace of its own the
	// child outlives it, in the container's cgroup.
	for _, args := range [][]string{{"kill"}, {"kill", "--all"}} {
		id := e.runDetached([]string{"sh", "-c", "sleep 1000 & exit 0"}, func(s *specs.Spec) {
			var kept []specs.LinuxNamespace
			for _, ns := range s.Linux.Namespaces {
				if ns.Type != specs.PIDNamespace {
					kept = append(kept, ns)
				}
			}
			s.Linux.Namespaces = kept
		})
		e.waitStatus(id, "stopped")
		procs := filepath.Join("/sys/fs/cgroup/pids", e.CgroupsPath(id), "cgroup.procs")
		if cgroups.IsCgroup2UnifiedMode() {
			procs = filepath.Join("/sys/fs/cgroup", e.CgroupsPath(id), "cgroup.procs")
		}
		if left := strings.Fields(readFile(t, procs)); len(left) != 1 {
			t.Fatalf("the cgroup holds %q, want the sleep left behind", left)
		}
		e.Must(append(args, id, "KILL")...)
		if !itest.WaitFor(10*time.Second, func() bool { return strings.TrimSpace(readFile(t, procs)) == "" }) {
			t.Errorf("%s of a container whose init is gone: the cgroup still holds %q", args, readFile(t, procs))
		}
		e.Must("delete", id)
	}
}

// TestDevicesNotGranted: a node of linux.devices is made, but the device
// cgroup decides whether it may be used, as with runc: a deny rule in
// linux.resources.devices stands, and an allow rule there opens it.
func TestDevicesNotGranted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fuse := specs.LinuxDevice{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}
	open := []string{"sh", "-c", "ls -l /dev/fuse && : < /dev/fuse && echo OPENED"}
	for _, allow := range []bool{false, true} {
		id := e.ID()
		bundle := e.Bundle(id, open, func(s *specs.Spec) {
			s.Linux.Devices = append(s.Linux.Devices, fuse)
			if allow {
				s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: &fuse.Major, Minor: &fuse.Minor, Access: "rw"})
			}
		})
		r := e.Corral("run", "--bundle", bundle, id)
		switch {
		case !strings.Contains(r.Stdout, "10, 229"):
			t.Errorf("allow %v: no /dev/fuse node: %v", allow, r)
		case allow && (r.Code != 0 || !strings.Contains(r.Stdout, "OPENED")):
			t.Errorf("allowed by linux.resources.devices, /dev/fuse did not open: %v", r)
		case !allow && (r.Code == 0 || strings.Contains(r.Stdout, "OPENED") || !strings.Contains(r.Stderr, "Operation not permitted")):
			t.Errorf("denied by linux.resources.devices, /dev/fuse opened: %v", r)
		}
	}
}

// TestPidsLimitZero: pids.limit 0 is a limit of one task, as runc writes
// it (systemd cannot set 0), and the limit applies once init is set up:
// the container starts, and cannot fork.
func TestPidsLimitZero(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, limit := range []int64{0, 1} {
		id := e.runDetached([]string{"sleep", "100"}, func(s *specs.Spec) {
			s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &limit}
		})
		max := filepath.Join("/sys/fs/cgroup/pids", e.CgroupsPath(id), "pids.max")
		if cgroups.IsCgroup2UnifiedMode() {
			max = filepath.Join("/sys/fs/cgroup", e.CgroupsPath(id), "pids.max")
		}
		if got := strings.TrimSpace(readFile(t, max)); got != "1" {
			t.Errorf("pids.limit %d: pids.max %s, want 1", limit, got)
		}
		// An exec needs a task of its own: the limit refuses it.
		if r := e.Corral("exec", id, "true"); r.Code == 0 {
			t.Errorf("pids.limit %d: exec succeeded: %v", limit, r)
		}
		e.Must("delete", "-f", id)
	}
}

// TestFrozenCgroupRefused: a container whose cgroup is already frozen
// would hang at its first step; as runc, corral refuses to start it.
func TestFrozenCgroupRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	dir, file, frozen := filepath.Join("/sys/fs/cgroup/freezer", e.CgroupsPath(id)), "freezer.state", "FROZEN"
	if cgroups.IsCgroup2UnifiedMode() {
		dir, file, frozen = filepath.Join("/sys/fs/cgroup", e.CgroupsPath(id)), "cgroup.freeze", "1"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(dir)
	if err := os.WriteFile(filepath.Join(dir, file), []byte(frozen), 0); err != nil {
		t.Fatal(err)
	}
	bundle := e.Bundle(id, []string{"true"})
	r := itest.Run(e.Command(context.Background(), "run", "--bundle", bundle, id), 20*time.Second)
	if r.Hung || r.Code == 0 || !strings.Contains(r.Stderr, "container's cgroup unexpectedly frozen") {
		t.Errorf("run in a frozen cgroup: %v", r)
	}
	e.Corral("delete", "-f", id)
}

// TestSpecCgroupNamespace: `corral spec` asks for a cgroup namespace on a
// host of cgroup v2 alone, as `runc spec` does. Elsewhere the process
// sees its cgroup's path, and a tool that adds a cgroup namespace to the
// spec gets one (the process then sees "/" as its cgroup, as with runc)
// instead of an error about a namespace listed twice.
func TestSpecCgroupNamespace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir := t.TempDir()
	e.Must("spec", "--bundle", dir)
	var s specs.Spec
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "config.json"))), &s); err != nil {
		t.Fatal(err)
	}
	hasCgroupNS := func(s *specs.Spec) bool {
		return slices.ContainsFunc(s.Linux.Namespaces, func(n specs.LinuxNamespace) bool { return n.Type == specs.CgroupNamespace })
	}
	if v2 := cgroups.IsCgroup2UnifiedMode(); hasCgroupNS(&s) != v2 {
		t.Errorf("cgroup v2 alone: %v; spec's namespaces %v", v2, s.Linux.Namespaces)
	}
	if cgroups.IsCgroup2UnifiedMode() {
		return
	}
	for _, add := range []bool{false, true} {
		id := e.ID()
		bundle := e.Bundle(id, []string{"cat", "/proc/self/cgroup"}, func(s *specs.Spec) {
			if add {
				s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
			}
		})
		want := e.CgroupsPath(id)
		if add {
			want = "/"
		}
		out := e.Must("run", "--bundle", bundle, id)
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if path := line[strings.LastIndexByte(line, ':')+1:]; path != want {
				t.Errorf("cgroup namespace %v: %q, want the path %q", add, line, want)
			}
		}
	}
}

// TestExecFailureExitCode: an exec that fails in the runtime exits 255,
// as runc's does, so that a caller tells it from a program that ran and
// exited 1; a usage error is still 1.
func TestExecFailureExitCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.runDetached([]string{"sleep", "100"})
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"exec", id, "sh", "-c", "exit 1"}, 1},
		{[]string{"exec", id, "/nonexistent"}, 255},
		{[]string{"exec", "--pid-file", "/nonexistent/dir/pid", id, "true"}, 255},
		{[]string{"exec", "no-such-container", "true"}, 255},
		{[]string{"exec"}, 1},
	} {
		if r := e.Corral(tc.args...); r.Code != tc.code || tc.code == 255 && r.Stderr == "" {
			t.Errorf("corral %q: exit %d, want %d: %v", tc.args, r.Code, tc.code, r)
		}
	}
	e.Must("pause", id)
	if r := e.Corral("exec", id, "true"); r.Code != 255 || !strings.Contains(r.Stderr, "cannot exec in a paused container") {
		t.Errorf("exec in a paused container: %v", r)
	}
	e.Must("delete", "-f", id)
}

// TestCommandLineMistakes: mistakes runc refuses and corral let pass as
// success: a --root that does not exist for list, a sub-cgroup of a
// controller the container lacks for exec, a help request for a command
// that does not exist, and a --parent-path for checkpoint that is
// absolute or missing.
func TestCommandLineMistakes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	missing := filepath.Join(t.TempDir(), "missing")
	r := itest.Run(e.commandNoRoot("--root", missing, "list"), cmdTimeout)
	if r.Code != 1 || !strings.Contains(r.Stderr, missing) {
		t.Errorf("list --root %s: %v", missing, r)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("list made the state root %s", missing)
	}

	id := e.runDetached([]string{"sleep", "100"})
	e.fails([]string{`"nosuchctrl"`}, "exec", "--cgroup", "nosuchctrl:/", id, "true")
	e.Must("delete", "-f", id)

	for _, args := range [][]string{{"nosuch", "-h"}, {"help", "nosuch"}} {
		if r := itest.Run(e.commandNoRoot(args...), cmdTimeout); r.Code == 0 || !strings.Contains(r.Stderr, `unknown command "nosuch"`) {
			t.Errorf("corral %q: %v", args, r)
		}
	}

	images := t.TempDir()
	e.fails([]string{"--parent-path", "must be relative"}, "checkpoint", "--image-path", images, "--parent-path", "/abs", "x")
	e.fails([]string{"--parent-path", "no such file or directory"}, "checkpoint", "--image-path", images, "--parent-path", "../pre", "x")
}

// TestWarnedLikeRunc: what runc accepts with a warning and corral
// refused, where accepting is harmless: capability names that are no
// capability, and device access letters other than r, w and m. Both are
// left out (the container gets less, never more) with a warning. An
// access with none of the three would widen to all of them: refused.
func TestWarnedLikeRunc(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	null := int64(3)
	major := int64(1)
	id := e.ID()
	bundle := e.Bundle(id, []string{"cat", "/proc/self/status"}, func(s *specs.Spec) {
		c := s.Process.Capabilities
		c.Bounding = append(c.Bounding, "CAP_NOSUCH")
		c.Effective = append(c.Effective, "CAP_FOO")
		s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: &major, Minor: &null, Access: "rwxq"})
	})
	r := e.Corral("run", "--bundle", bundle, id)
	if r.Code != 0 {
		t.Fatalf("run: %v", r)
	}
	for _, want := range []string{"CAP_NOSUCH", "CAP_FOO", "rwxq"} {
		if !strings.Contains(r.Stderr, want) || !strings.Contains(r.Stderr, "level=warning") {
			t.Errorf("no warning naming %s: %q", want, r.Stderr)
		}
	}
	if eff := statusLine(r.Stdout, "CapEff"); eff != "0000000020000420" {
		t.Errorf("CapEff %s, want the three capabilities of the spec", eff)
	}

	id = e.ID()
	bundle = e.Bundle(id, []string{"true"}, func(s *specs.Spec) {
		s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: &major, Minor: &null, Access: "xq"})
	})
	e.fails([]string{"linux.resources.devices[1].access", `"xq" has none of r, w and m`}, "run", "--bundle", bundle, id)
}

// cgroupFile is the path of file in container id's cgroup of controller
// ctrl (cgroup v1), or in its one cgroup (cgroup v2).
func (e *env) cgroupFile(id, ctrl, file string) string {
	if cgroups.IsCgroup2UnifiedMode() {
		return filepath.Join("/sys/fs/cgroup", e.CgroupsPath(id), file)
	}
	return filepath.Join("/sys/fs/cgroup", ctrl, e.CgroupsPath(id), file)
}

// blockDevice returns the major:minor of a block device of this machine,
// or "" if it has none.
func blockDevice() string {
	devs, _ := filepath.Glob("/sys/block/*/dev")
	for _, d := range devs {
		if b, err := os.ReadFile(d); err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	return ""
}

// TestUpdateResources: update applies --cpu-idle and the fields of
// --resources that corral ignored (throttles here; the others go the same
// way), merging per device; it leaves the device cgroup as it is, so that
// what a device plugin granted stays; and on cgroup v1 --memory -1 lifts
// the memory+swap limit too, which the kernel requires.
func TestUpdateResources(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.runDetached([]string{"sleep", "100"})
	update := func(resources string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
		defer cancel()
		cmd := e.Command(ctx, "update", "-r", "-", id)
		cmd.Stdin = strings.NewReader(resources)
		if r := e.RunCmd(cmd); r.Code != 0 {
			t.Fatalf("update -r %s: %v", resources, r)
		}
	}

	e.Must("update", "--cpu-idle", "1", id)
	if got := strings.TrimSpace(readFile(t, e.cgroupFile(id, "cpu", "cpu.idle"))); got != "1" {
		t.Errorf("--cpu-idle 1: cpu.idle %s", got)
	}
	update(`{"cpu": {"idle": 0}}`)
	if got := strings.TrimSpace(readFile(t, e.cgroupFile(id, "cpu", "cpu.idle"))); got != "0" {
		t.Errorf("-r cpu.idle 0: cpu.idle %s", got)
	}

	if dev := blockDevice(); dev == "" {
		t.Log("no block device on this machine: throttles not tried")
	} else {
		major, minor, _ := strings.Cut(dev, ":")
		update(`{"blockIO": {"throttleReadBpsDevice": [{"major": ` + major + `, "minor": ` + minor + `, "rate": 1048576}]}}`)
		update(`{"blockIO": {"throttleWriteIOPSDevice": [{"major": ` + major + `, "minor": ` + minor + `, "rate": 300}]}}`)
		if cgroups.IsCgroup2UnifiedMode() {
			if got := readFile(t, e.cgroupFile(id, "", "io.max")); !strings.Contains(got, "rbps=1048576") || !strings.Contains(got, "wiops=300") {
				t.Errorf("throttles: io.max %q", got)
			}
		} else {
			if got := readFile(t, e.cgroupFile(id, "blkio", "blkio.throttle.read_bps_device")); !strings.Contains(got, dev+" 1048576") {
				t.Errorf("throttle: read_bps_device %q", got)
			}
			if got := readFile(t, e.cgroupFile(id, "blkio", "blkio.throttle.write_iops_device")); !strings.Contains(got, dev+" 300") {
				t.Errorf("throttle: write_iops_device %q", got)
			}
		}
	}

	if !cgroups.IsCgroup2UnifiedMode() {
		// A device plugin grants /dev/fuse in the device cgroup; an
		// engine's update carries the spec's rules, which deny it.
		list := e.cgroupFile(id, "devices", "devices.list")
		if err := os.WriteFile(e.cgroupFile(id, "devices", "devices.allow"), []byte("c 10:229 rw"), 0); err != nil {
			t.Fatal(err)
		}
		update(`{"devices": [{"allow": false, "access": "rwm"}], "pids": {"limit": 50}}`)
		if got := readFile(t, list); !strings.Contains(got, "c 10:229 rw") {
			t.Errorf("update took away a device granted since the start: devices.list %q", got)
		}

		e.Must("update", "--memory", "64m", "--memory-swap", "128m", id)
		e.Must("update", "--memory", "-1", id)
		for _, f := range []string{"memory.limit_in_bytes", "memory.memsw.limit_in_bytes"} {
			if _, err := os.Stat(e.cgroupFile(id, "memory", f)); err != nil {
				continue // no swap accounting
			}
			if got := strings.TrimSpace(readFile(t, e.cgroupFile(id, "memory", f))); got != "9223372036854771712" {
				t.Errorf("--memory -1: %s %s, want no limit", f, got)
			}
		}
	}
	e.Must("delete", "-f", id)
}

// TestFeaturesLikeRunc: `features` has every key runc's has where runc is
// installed, and says what corral does: checkpoint, memory policies,
// netDevices and Intel RDT are built in, and the
// annotation "bundle" means something to corral (but cannot move a
// container's bundle).
func TestFeaturesLikeRunc(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := e.Must("features")
	var doc map[string]any
	var f features.Features
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &f); err != nil {
		t.Fatal(err)
	}
	if runc, err := exec.Command("/usr/sbin/runc", "features").Output(); err != nil {
		t.Logf("runc features: %v: shape not compared", err)
	} else {
		var want map[string]any
		if err := json.Unmarshal(runc, &want); err != nil {
			t.Fatal(err)
		}
		for k := range want {
			if _, ok := doc[k]; !ok && k != "annotations" {
				t.Errorf("runc's features has %q, corral's not", k)
			}
		}
		for k := range want["linux"].(map[string]any) {
			if _, ok := doc["linux"].(map[string]any)[k]; !ok {
				t.Errorf("runc's features has linux.%s, corral's not", k)
			}
		}
	}
	l := f.Linux
	switch {
	case f.Annotations["io.github.corral-oci.corral.checkpoint.enabled"] != "true":
		t.Errorf("checkpoint: annotations %v", f.Annotations)
	case l.NetDevices == nil || l.NetDevices.Enabled == nil || !*l.NetDevices.Enabled:
		t.Errorf("netDevices %+v, want enabled", l.NetDevices)
	case l.IntelRdt == nil || l.IntelRdt.Enabled == nil || !*l.IntelRdt.Enabled:
		t.Errorf("intelRdt %+v, want enabled", l.IntelRdt)
	case l.MemoryPolicy == nil || len(l.MemoryPolicy.Modes) != 7 || len(l.MemoryPolicy.Flags) != 3:
		t.Errorf("memoryPolicy %+v, want the spec's 7 modes and 3 flags", l.MemoryPolicy)
	case !slices.Contains(f.PotentiallyUnsafeConfigAnnotations, "bundle"):
		t.Errorf("potentiallyUnsafeConfigAnnotations %v", f.PotentiallyUnsafeConfigAnnotations)
	}

	id := e.ID()
	bundle := e.Bundle(id, []string{"sleep", "100"}, func(s *specs.Spec) {
		s.Annotations = map[string]string{"bundle": "/elsewhere"}
	})
	e.Must("run", "-d", "--bundle", bundle, id)
	if s := e.state(id); s.Bundle != bundle {
		t.Errorf("an annotation named bundle moved the bundle to %q", s.Bundle)
	}
	e.Must("delete", "-f", id)
}

// TestErrorWording: the words engines and scripts match in runc's errors
// are in corral's: a failed hook, a cgroup in use, unified resources on
// cgroup v1, SCHED_DEADLINE with a cpuset (refused before anything is
// made), and a program the kernel cannot exec, printed as runc does.
func TestErrorWording(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	run := func(wants []string, args []string, mod func(*specs.Spec)) {
		t.Helper()
		id := e.ID()
		bundle := e.Bundle(id, args, mod)
		e.fails(append(wants, id), "run", "--bundle", bundle, id)
	}
	run([]string{"error running createRuntime hook #1:"}, []string{"true"}, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/true"}, {Path: "/bin/false"}}}
	})
	cpus := "0"
	run([]string{"process scheduler can't be used together with AllowedCPUs"}, []string{"true"}, func(s *specs.Spec) {
		s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 42000, Deadline: 1000000, Period: 1000000}
		s.Linux.Resources.CPU = &specs.LinuxCPU{Cpus: cpus}
	})
	if !cgroups.IsCgroup2UnifiedMode() {
		run([]string{"invalid configuration", "unified"}, []string{"true"}, func(s *specs.Spec) {
			s.Linux.Resources.Unified = map[string]string{"memory.max": "100M"}
		})
	}

	// A script whose interpreter is missing: execve fails with ENOENT.
	script := filepath.Join(t.TempDir(), "run.sh")
	if err := os.WriteFile(script, []byte("#!/nonexistent/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := ""
	func() {
		id := e.ID()
		bundle := e.Bundle(id, []string{"/tmp/run.sh"}, func(s *specs.Spec) {
			s.Mounts = append(s.Mounts,
				specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"},
				specs.Mount{Destination: "/tmp/run.sh", Type: "bind", Source: script, Options: []string{"bind", "ro"}})
		})
		out = e.fails([]string{id}, "run", "--bundle", bundle, id)
	}()
	if n := strings.Count(out, "exec /tmp/run.sh: no such file or directory"); n != 1 || strings.Contains(out, "exec: exec") {
		t.Errorf("the failed exec is not printed once as runc prints it: %q", out)
	}

	// The cgroup of a running container.
	id := e.runDetached([]string{"sleep", "100"})
	other := e.ID()
	bundle := e.Bundle(other, []string{"true"}, func(s *specs.Spec) { s.Linux.CgroupsPath = e.CgroupsPath(id) })
	e.fails([]string{"container's cgroup is not empty"}, "run", "--bundle", bundle, other)
	e.Must("delete", "-f", id)
}

// TestSeccompProfileOf2017 runs a program under Docker's default seccomp
// profile of 2017 (corpus bundle seccomp-docker-2017), with and without
// no_new_privs: the profile predates close_range and faccessat2, which
// init calls after it loads the filter when no_new_privs is off (as
// Docker leaves it). runc runs such a bundle; so must corral.
func TestSeccompProfileOf2017(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join(corpus.Dir(), "seccomp-docker-2017.json"))
	if err != nil {
		t.Fatal(err)
	}
	var corpusSpec specs.Spec
	if err := json.Unmarshal(raw, &corpusSpec); err != nil {
		t.Fatal(err)
	}
	if corpusSpec.Linux == nil || corpusSpec.Linux.Seccomp == nil {
		t.Fatal("seccomp-docker-2017.json has no linux.seccomp")
	}
	for _, nnp := range []bool{false, true} {
		e := newEnv(t)
		id := e.ID()
		bundle := e.Bundle(id, []string{"sh", "-c", "echo ok; grep Seccomp: /proc/self/status"}, func(s *specs.Spec) {
			s.Linux.Seccomp = corpusSpec.Linux.Seccomp
			s.Process.NoNewPrivileges = nnp
		})
		r := e.Corral("run", "--bundle", bundle, id)
		if r.Code != 0 || !strings.HasPrefix(r.Stdout, "ok\nSeccomp:\t2") {
			t.Errorf("run with no_new_privs %v: want ok and a filter: %v", nnp, r)
		}
	}
}

// lastStepSyscalls are what busybox's echo and sleep need, plus what
// init's wait mode makes after it loads the filter (write, openat,
// fstat, close, execve): a profile for one program, that denies
// everything else with EPERM. Debian's runc 1.1.5 fails on it ("ensure
// /proc/self/fd is on procfs": it calls fstatfs after the filter), and
// so does crun 1.8.
var lastStepSyscalls = strings.Fields(`execve write read openat fstat close exit exit_group
	readlink brk mprotect rseq getrandom arch_prctl prlimit64 prctl getuid set_tid_address
	set_robust_list clock_nanosleep nanosleep rt_sigaction rt_sigprocmask rt_sigreturn`)

// TestSeccompLoadedLastBeforeExecve (issue 18): with no_new_privs, the
// filter is the last step before execve, for init and for an exec'd
// process: a profile that allows the program and no more than runc's
// init needs after the filter runs. Before, init loaded it in Go, then
// changed user, closed fds, made a memfd, exec'd itself (or, refused,
// waited in Go: futex, mmap, ...), and an exec'd process's setup cloned
// the program under it: every start failed with "operation not
// permitted".
func TestSeccompLoadedLastBeforeExecve(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	profile := func(s *specs.Spec) {
		s.Process.NoNewPrivileges = true
		s.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction: specs.ActErrno,
			Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
			Syscalls:      []specs.LinuxSyscall{{Names: lastStepSyscalls, Action: specs.ActAllow}},
		}
	}
	bundle := e.Bundle(id, []string{"echo", "ok"}, profile)
	if r := e.Corral("run", "--bundle", bundle, id); r.Code != 0 || r.Stdout != "ok\n" {
		t.Fatalf("run under a one-program profile: %v", r)
	}

	id = e.runDetached([]string{"sleep", "100"}, profile)
	defer e.Must("delete", "-f", id)
	if r := e.Corral("exec", id, "echo", "exec ok"); r.Code != 0 || r.Stdout != "exec ok\n" {
		t.Fatalf("exec under a one-program profile: %v", r)
	}
}
