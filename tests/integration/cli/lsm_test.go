package cli

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/libcontainer/apparmor"
)

// TestAppArmorProfile confines a container's processes to an AppArmor
// profile, as Docker does with docker-default on every Debian and Ubuntu
// host: init and exec'd processes, with and without a user namespace
// (whose exec setup runs out of the container's pid namespace, where the
// container's procfs has no /proc/thread-self for it), with a
// startContainer hook (init's hooks mode), and `exec --apparmor`
// overriding it. init execs its own binary into its wait mode: the
// profile must not be taken by that exec (which confined the wait mode,
// which then could not open the exec fifo), but by the program's. The profile denies writes under /tmp,
// so that it is seen enforced, not only named. This host has no
// AppArmor: the lane tests/vm/apparmor.sh runs it in the VM, whose
// Debian kernel enables it.
func TestAppArmorProfile(t *testing.T) {
	if !apparmor.IsEnabled() {
		t.Skip("AppArmor is not enabled on this host (tests/vm/apparmor.sh runs this test in a VM where it is)")
	}
	parser, err := exec.LookPath("apparmor_parser")
	if err != nil {
		t.Skip("apparmor_parser is not installed: it loads the test's profile")
	}
	e := newEnv(t)
	profile := "corral-test-" + e.ID()
	policy := fmt.Sprintf(`profile %s flags=(attach_disconnected,mediate_deleted) {
  file,
  capability,
  network,
  signal,
  ptrace,
  unix,
  mount,
  umount,
  pivot_root,
  deny /tmp/** w,
}
`, profile)
	load := exec.Command(parser, "-r")
	load.Stdin = strings.NewReader(policy)
	if out, err := load.CombinedOutput(); err != nil {
		t.Fatalf("load the profile: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		remove := exec.Command(parser, "-R")
		remove.Stdin = strings.NewReader(policy)
		remove.Run()
	})
	confined := profile + " (enforce)\n"
	withProfile := func(s *specs.Spec) { s.Process.ApparmorProfile = profile }

	id := e.ID()
	bundle := e.Bundle(id, []string{"sh", "-c", "cat /proc/self/attr/current; echo x > /tmp/denied 2>/dev/null || echo denied"}, withProfile)
	if out := e.Must("run", "--bundle", bundle, id); out != confined+"denied\n" {
		t.Errorf("init: %q, want the profile, enforced", out)
	}
	// With a startContainer hook, init's hooks mode writes it.
	id = e.ID()
	bundle = e.Bundle(id, []string{"cat", "/proc/self/attr/current"}, withProfile, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/true"}}}
	})
	if out := e.Must("run", "--bundle", bundle, id); out != confined {
		t.Errorf("init with a startContainer hook: %q, want %q", out, confined)
	}

	for _, tc := range []struct {
		name string
		mods []func(*specs.Spec)
	}{
		{"no-userns", []func(*specs.Spec){withProfile}},
		{"userns", []func(*specs.Spec){withProfile, userNamespace}},
	} {
		id := e.runDetached([]string{"sleep", "100"}, tc.mods...)
		if r := e.Corral("exec", id, "cat", "/proc/self/attr/current"); r.Code != 0 || r.Stdout != confined {
			t.Errorf("%s: exec: %v, want %q", tc.name, r, confined)
		}
		if r := e.Corral("exec", "--apparmor", "unconfined", id, "cat", "/proc/self/attr/current"); r.Code != 0 || r.Stdout != "unconfined\n" {
			t.Errorf("%s: exec --apparmor unconfined: %v", tc.name, r)
		}
		if r := e.Corral("exec", id, "sh", "-c", "echo x > /tmp/denied"); r.Code == 0 {
			t.Errorf("%s: an exec'd process wrote under /tmp: the profile is not enforced", tc.name)
		}
		e.Must("delete", "-f", id)
	}

	// A profile the kernel does not know fails the start, naming it.
	id = e.ID()
	bundle = e.Bundle(id, []string{"true"}, func(s *specs.Spec) { s.Process.ApparmorProfile = "corral-not-loaded" })
	e.fails([]string{`apparmor exec label "exec corral-not-loaded"`, "no such file or directory"}, "run", "--bundle", bundle, id)
}

// userNamespace gives the container a user namespace mapping container
// root to host uid 100000, without the cgroup mount (sysfs's cgroup
// files belong to the host's root).
func userNamespace(s *specs.Spec) {
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	var kept []specs.Mount
	for _, m := range s.Mounts {
		if m.Type != "cgroup" {
			kept = append(kept, m)
		}
	}
	s.Mounts = kept
}

// TestLSMWithoutLSM: a profile or label for an LSM the host lacks is
// refused up front, naming the field, as runc refuses an SELinux label
// ("selinux label is specified in config, but selinux is disabled or not
// supported"); it would confine nothing.
func TestLSMWithoutLSM(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if !apparmor.IsEnabled() {
		id := e.ID()
		bundle := e.Bundle(id, []string{"true"}, func(s *specs.Spec) { s.Process.ApparmorProfile = "corral-default" })
		e.fails([]string{`process.apparmorProfile "corral-default"`, apparmor.ErrNotEnabled.Error()}, "run", "--bundle", bundle, id)
	}
	if _, err := os.Stat("/sys/fs/selinux/enforce"); err != nil {
		id := e.ID()
		bundle := e.Bundle(id, []string{"true"}, func(s *specs.Spec) { s.Process.SelinuxLabel = "system_u:system_r:container_t:s0" })
		e.fails([]string{`process.selinuxLabel "system_u:system_r:container_t:s0"`, "selinux is disabled or not supported"}, "run", "--bundle", bundle, id)
	}
}
