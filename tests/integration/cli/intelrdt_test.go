package cli

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// resctrlRoot is where resctrl is mounted, read apart from corral's own
// lookup; "" without one.
func resctrlRoot(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if pre, post, ok := strings.Cut(line, " - "); ok && strings.HasPrefix(post, "resctrl ") {
			return strings.Fields(pre)[4]
		}
	}
	return ""
}

func withIntelRdt(rdt specs.LinuxIntelRdt) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Linux.IntelRdt = &rdt }
}

// TestIntelRdt: linux.intelRdt is honoured or refused, never ignored.
// Without resctrl (this project's machines) create refuses every form of
// it, naming the field and saying why, and leaves no container; update
// refuses the Intel RDT flags. With resctrl, init lands in a group named
// after the container, which delete removes.
func TestIntelRdt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	root := resctrlRoot(t)
	if root == "" {
		for _, rdt := range []specs.LinuxIntelRdt{
			{},
			{ClosID: "gold"},
			{L3CacheSchema: "L3:0=f"},
			{MemBwSchema: "MB:0=50"},
			{Schemata: []string{"L2:0=3"}},
			{EnableMonitoring: true},
		} {
			id := e.ID()
			bundle := e.Bundle(id, []string{"true"}, withIntelRdt(rdt))
			stderr := e.fails([]string{"intel_rdt: linux.intelRdt cannot be honoured: no resctrl filesystem is mounted"}, "create", "--bundle", bundle, id)
			t.Logf("%+v: %s", rdt, strings.TrimSpace(stderr))
			if _, err := os.Stat(filepath.Join(e.Root, id)); err == nil {
				t.Errorf("%+v: the container was made", rdt)
			}
		}
		id := e.runDetached([]string{"sleep", "100"})
		e.fails([]string{"--l3-cache-schema", "Intel RDT cannot be used: no resctrl filesystem is mounted"}, "update", "--l3-cache-schema", "L3:0=f", id)
		e.fails([]string{"--mem-bw-schema", "Intel RDT cannot be used"}, "update", "--mem-bw-schema", "MB:0=50", id)
		e.Must("delete", "-f", id)
		return
	}
	t.Logf("resctrl at %s", root)
	id := e.runDetached([]string{"sleep", "100"}, withIntelRdt(specs.LinuxIntelRdt{}))
	group := filepath.Join(root, id)
	tasks, err := os.ReadFile(filepath.Join(group, "tasks"))
	if err != nil {
		t.Fatalf("the container's resctrl group: %v", err)
	}
	if pid := e.state(id).Pid; !strings.Contains("\n"+string(tasks), "\n"+strconv.Itoa(pid)+"\n") {
		t.Errorf("init %d is not in %s/tasks: %q", pid, group, tasks)
	}
	e.Must("delete", "-f", id)
	if _, err := os.Stat(group); err == nil {
		t.Errorf("delete left the resctrl group %s", group)
	}
}
