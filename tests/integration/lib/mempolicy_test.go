package lib

import (
	"os"
	"strings"
	"testing"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"
)

// numaPolicy prints the policy of the first mapping of a process started
// by the container's shell: set on init's thread, the policy must survive
// execve and pass to the processes it forks.
const numaPolicy = `head -n 1 /proc/self/numa_maps | cut -d' ' -f2`

func needNUMA(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/proc/self/numa_maps"); err != nil {
		t.Skip("this kernel has no NUMA support (no /proc/self/numa_maps): it has no memory policies")
	}
}

// TestMemoryPolicy: linux.memoryPolicy is the policy of init and of the
// processes exec'd in the container, as with runc (its memorypolicy.bats).
func TestMemoryPolicy(t *testing.T) {
	needNUMA(t)
	for _, tc := range []struct {
		policy configs.MemoryPolicy
		want   string
	}{
		{configs.MemoryPolicy{Mode: "MPOL_INTERLEAVE", Nodes: "0"}, "interleave:0"},
		{configs.MemoryPolicy{Mode: "MPOL_BIND", Nodes: "0", Flags: []string{"MPOL_F_STATIC_NODES"}}, "bind=static:0"},
		{configs.MemoryPolicy{Mode: "MPOL_DEFAULT"}, "default"},
		{configs.MemoryPolicy{Mode: "MPOL_LOCAL"}, "local"},
	} {
		cfg := newConfig(t, busybox)
		cfg.MemoryPolicy = &tc.policy
		if out := sh(t, cfg, numaPolicy); out != tc.want+"\n" {
			t.Errorf("%+v: policy %q, want %q", tc.policy, out, tc.want)
		}
	}

	cfg := newConfig(t, busybox)
	cfg.MemoryPolicy = &configs.MemoryPolicy{Mode: "MPOL_PREFERRED", Nodes: "0", Flags: []string{"MPOL_F_RELATIVE_NODES"}}
	c, _, _ := startScript(t, cfg, `sleep 1000`)
	script := numaPolicy + `; head -n 1 /proc/1/numa_maps | cut -d' ' -f2`
	if out, code := execIn(t, c, []string{"/bin/sh", "-c", script}); code != 0 || out != "prefer=relative:0\nprefer=relative:0\n" {
		t.Errorf("exec: exit %d, policies of exec and init %q", code, out)
	}
}

// A policy the kernel refuses fails the start, naming the policy; one
// that is wrong in itself is refused before anything is made.
func TestMemoryPolicyRefused(t *testing.T) {
	needNUMA(t)
	cfg := newConfig(t, busybox)
	// No machine has node 4095 online.
	cfg.MemoryPolicy = &configs.MemoryPolicy{Mode: "MPOL_BIND", Nodes: "4095"}
	_, err := run(t, cfg, []string{"true"})
	if err == nil || !strings.Contains(err.Error(), `memory policy MPOL_BIND nodes "4095"`) || !strings.Contains(err.Error(), "set_mempolicy: invalid argument") {
		t.Errorf("bind to a node the machine lacks: %v", err)
	}
	cfg = newConfig(t, busybox)
	cfg.MemoryPolicy = &configs.MemoryPolicy{Mode: "MPOL_DEFAULT", Nodes: "0-7"}
	if _, err := libcontainer.Create(t.TempDir(), randomID(t), cfg); err == nil || !strings.Contains(err.Error(), "invalid memory policy") {
		t.Errorf("MPOL_DEFAULT with nodes: %v", err)
	}
}
