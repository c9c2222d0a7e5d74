package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := e.Must("version")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{"corral version 0.1.0", "commit: ", "spec: " + specs.Version, "go: " + runtime.Version(), "libseccomp: "}
	if len(lines) != len(want) {
		t.Fatalf("version:\n%s", out)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d: %q, want %q...", i, lines[i], w)
		}
	}
	for _, flag := range []string{"--version", "-v"} {
		if got := e.Must(flag); got != out {
			t.Errorf("%s:\n%s\nversion:\n%s", flag, got, out)
		}
	}
}

func TestSpec(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir := t.TempDir()
	e.Must("spec", "--bundle", dir)
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Version != specs.Version || s.Root.Path != "rootfs" || !s.Process.Terminal || len(s.Linux.Namespaces) == 0 {
		t.Errorf("spec %+v", s)
	}
	e.fails([]string{path, "exists"}, "spec", "-b", dir)
	if after, _ := os.ReadFile(path); string(after) != string(b) {
		t.Error("a refused spec changed config.json")
	}

	// In the current directory, and rootless.
	dir = t.TempDir()
	cmd := e.commandNoRoot("spec", "--rootless")
	cmd.Dir = dir
	if r := e.RunCmd(cmd); r.Code != 0 {
		t.Fatalf("spec --rootless: %s", r.Stderr)
	}
	b, _ = os.ReadFile(filepath.Join(dir, "config.json"))
	s = specs.Spec{}
	json.Unmarshal(b, &s)
	userNS := slices.ContainsFunc(s.Linux.Namespaces, func(n specs.LinuxNamespace) bool { return n.Type == specs.UserNamespace })
	if !userNS || len(s.Linux.UIDMappings) != 1 || s.Linux.Resources != nil {
		t.Errorf("rootless spec: namespaces %v, uid mappings %v", s.Linux.Namespaces, s.Linux.UIDMappings)
	}
}

func TestFeatures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var f features.Features
	if err := json.Unmarshal([]byte(e.Must("features")), &f); err != nil {
		t.Fatal(err)
	}
	if f.OCIVersionMin != "1.0.0" || f.OCIVersionMax != specs.Version {
		t.Errorf("versions %q..%q", f.OCIVersionMin, f.OCIVersionMax)
	}
	if !slices.Contains(f.Hooks, "createRuntime") || !slices.Contains(f.MountOptions, "rbind") || !slices.Contains(f.MountOptions, "rro") {
		t.Errorf("hooks %v, mount options %v", f.Hooks, f.MountOptions)
	}
	l := f.Linux
	if l == nil || !slices.Contains(l.Namespaces, "network") || !slices.Contains(l.Namespaces, "mount") ||
		!slices.Contains(l.Capabilities, "CAP_SYS_ADMIN") {
		t.Fatalf("linux %+v", l)
	}
	if l.Cgroup == nil || l.Cgroup.V1 == nil || !*l.Cgroup.V1 || l.Seccomp == nil || l.Seccomp.Enabled == nil || !*l.Seccomp.Enabled {
		t.Errorf("cgroup %+v, seccomp %+v", l.Cgroup, l.Seccomp)
	}
	if !slices.Contains(l.Seccomp.Actions, "SCMP_ACT_ERRNO") || !slices.Contains(l.Seccomp.Operators, "SCMP_CMP_EQ") {
		t.Errorf("seccomp %+v", l.Seccomp)
	}
	if mp := l.MemoryPolicy; mp == nil || len(mp.Modes) != 7 || !slices.Contains(mp.Modes, "MPOL_WEIGHTED_INTERLEAVE") || !slices.Contains(mp.Flags, "MPOL_F_STATIC_NODES") {
		t.Errorf("memory policy %+v", l.MemoryPolicy)
	}
	if f.Annotations["io.github.corral-oci.corral.version"] != "0.1.0" || f.Annotations["io.github.seccomp.libseccomp.version"] == "" {
		t.Errorf("annotations %v", f.Annotations)
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if out := e.Must("list", "--format", "json"); out != "null\n" {
		t.Errorf("empty list as JSON: %q", out)
	}
	if out := e.Must("list"); out != "ID          PID         STATUS      BUNDLE      CREATED     OWNER\n" {
		t.Errorf("empty table: %q", out)
	}
	running := e.runDetached([]string{"sleep", "100"})
	created := e.ID()
	e.Must("create", "--bundle", e.Bundle(created, []string{"true"}), created)
	// Not a container (not a valid id): skipped, with a warning.
	os.Mkdir(filepath.Join(e.Root, "not-a-container!"), 0o700)
	// A creation killed before it wrote its state: a stopped container
	// that delete removes.
	interrupted := e.ID()
	os.Mkdir(filepath.Join(e.Root, interrupted), 0o711)

	ids := strings.Fields(e.Must("ls", "-q"))
	slices.Sort(ids)
	want := []string{created, running, interrupted}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("list -q: %v, want %v", ids, want)
	}

	var states []state
	if err := json.Unmarshal([]byte(e.Must("list", "-f", "json")), &states); err != nil {
		t.Fatal(err)
	}
	byID := map[string]state{}
	for _, s := range states {
		byID[s.ID] = s
	}
	if byID[running].Status != "running" || byID[created].Status != "created" || byID[running].Pid <= 0 || byID[running].Owner != "root" {
		t.Errorf("list json: %+v", states)
	}

	r := e.Corral("list")
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "ID ") || !strings.Contains(lines[0], "OWNER") {
		t.Fatalf("table:\n%s", r.Stdout)
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if f[0] == interrupted {
			continue // no bundle: one field fewer
		}
		if len(f) != 6 || byID[f[0]].Status != f[2] || f[1] != strconv.Itoa(byID[f[0]].Pid) || f[5] != "root" {
			t.Errorf("table line %q", l)
		}
	}
	if !strings.Contains(r.Stderr, "not-a-container") {
		t.Errorf("no warning about the stray directory: %q", r.Stderr)
	}
	if st := byID[interrupted]; st.Status != "stopped" || st.Pid != 0 {
		t.Errorf("interrupted creation listed as %+v, want stopped", st)
	}
	os.Remove(filepath.Join(e.Root, "not-a-container!"))
	e.Must("delete", "-f", running)
	e.Must("delete", created)
	e.Must("delete", interrupted)
}

func TestPs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.runDetached([]string{"sleep", "100"})
	initPid := e.state(id).Pid

	var pids []int
	if err := json.Unmarshal([]byte(e.Must("ps", "--format", "json", id)), &pids); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pids, []int{initPid}) {
		t.Errorf("ps json %v, want [%d]", pids, initPid)
	}

	out := e.Must("ps", id)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "PID") || !strings.Contains(lines[1], " "+strconv.Itoa(initPid)+" ") {
		t.Errorf("ps:\n%s", out)
	}
	// Options after the id are ps(1)'s.
	out = e.Must("ps", id, "-o", "pid,comm")
	if want := "PID COMMAND\n" + strconv.Itoa(initPid) + " sleep"; strings.Join(strings.Fields(out), " ") != strings.Join(strings.Fields(want), " ") {
		t.Errorf("ps -o pid,comm:\n%s", out)
	}
	e.fails([]string{"PID"}, "ps", id, "-o", "comm")
	e.Must("delete", "-f", id)
}

// TestCheckpointRestoreErrors checks the errors of checkpoint and restore
// that need no criu; tests/integration/criu tests them with one.
func TestCheckpointRestoreErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fails([]string{`"x"`, "does not exist"}, "checkpoint", "--image-path", "/tmp", "x")
	e.fails([]string{`restore container "x"`, "/nonexistent"}, "restore", "--bundle", "/nonexistent", "x")
	e.fails([]string{"--manage-cgroups-mode", "bogus"}, "checkpoint", "--manage-cgroups-mode", "bogus", "x")
}
