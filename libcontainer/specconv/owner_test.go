package specconv

import (
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// The container's cgroup is delegated to the host uid of its process's
// user when it has a cgroup namespace and a read-write cgroupfs, on
// cgroup v2 alone.
func TestCgroupOwner(t *testing.T) {
	rw := func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		s.Linux.GIDMappings = s.Linux.UIDMappings
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		for i := range s.Mounts {
			if s.Mounts[i].Destination == "/sys/fs/cgroup" {
				s.Mounts[i].Options = []string{"nosuid", "noexec", "nodev", "relatime", "rw"}
			}
		}
	}
	for _, tc := range []struct {
		name   string
		mutate func(*specs.Spec)
		v2     bool
		owner  int // -1: none
	}{
		{"delegated", rw, true, 100000},
		{"process user", func(s *specs.Spec) { rw(s); s.Process.User.UID = 1000 }, true, 101000},
		{"cgroup v1", rw, false, -1},
		{"read-only cgroupfs", func(s *specs.Spec) {
			rw(s)
			for i := range s.Mounts {
				if s.Mounts[i].Destination == "/sys/fs/cgroup" {
					s.Mounts[i].Options = append(s.Mounts[i].Options, "ro")
				}
			}
		}, true, -1},
		{"no cgroup namespace", func(s *specs.Spec) {
			rw(s)
			ns := s.Linux.Namespaces[:0]
			for _, n := range s.Linux.Namespaces {
				if n.Type != specs.CgroupNamespace {
					ns = append(ns, n)
				}
			}
			s.Linux.Namespaces = ns
		}, true, -1},
		{"no user namespace, root", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
			for i := range s.Mounts {
				if s.Mounts[i].Destination == "/sys/fs/cgroup" {
					s.Mounts[i].Options = []string{"nosuid", "rw"}
				}
			}
		}, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Example()
			tc.mutate(s)
			c := convert(t, s)
			c.Cgroups.OwnerUID = nil
			cgroupOwner(c, s.Process, tc.v2)
			got := -1
			if c.Cgroups.OwnerUID != nil {
				got = *c.Cgroups.OwnerUID
			}
			if got != tc.owner {
				t.Errorf("owner uid %d, want %d", got, tc.owner)
			}
		})
	}
}
