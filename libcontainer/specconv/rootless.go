package specconv

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// ToRootless converts spec to run without root, as `corral spec
// --rootless` writes it:
//
//   - a new user namespace, in which the caller's effective uid and gid
//     (the only ids an unprivileged user may map) are root;
//   - /sys bind-mounted (recursively, read-only) from the host: a new
//     sysfs needs CAP_SYS_ADMIN over the owner of the network namespace
//     (not ours if the user removes the network namespace) and a host
//     /sys with nothing hidden under over-mounts, while a bind works
//     whatever the setup;
//   - no uid= or gid= mount options: with a single mapped id, any other
//     id (such as the tty group 5 of devpts) is unmapped and the mount
//     would fail;
//   - no linux.resources: an unprivileged user usually cannot write the
//     cgroup, so limits would either fail or silently not apply.
//
// Unlike runc, the network namespace is kept: a user namespace lets an
// unprivileged user create one, and a container with only lo is the
// safer default; remove it to share the host's network.
func ToRootless(spec *specs.Spec) {
	if spec.Linux == nil {
		spec.Linux = &specs.Linux{}
	}
	namespaces := make([]specs.LinuxNamespace, 0, len(spec.Linux.Namespaces)+1)
	for _, ns := range spec.Linux.Namespaces {
		// A user namespace joined by path would not be ours to map.
		if ns.Type != specs.UserNamespace {
			namespaces = append(namespaces, ns)
		}
	}
	spec.Linux.Namespaces = append(namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Geteuid()), Size: 1}}
	spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Getegid()), Size: 1}}

	mounts := make([]specs.Mount, 0, len(spec.Mounts))
	for _, m := range spec.Mounts {
		if filepath.Clean(m.Destination) == "/sys" {
			mounts = append(mounts, specs.Mount{
				Destination: "/sys",
				Type:        "none",
				Source:      "/sys",
				Options:     []string{"rbind", "nosuid", "noexec", "nodev", "ro"},
			})
			continue
		}
		var options []string
		for _, o := range m.Options {
			if !strings.HasPrefix(o, "uid=") && !strings.HasPrefix(o, "gid=") {
				options = append(options, o)
			}
		}
		m.Options = options
		mounts = append(mounts, m)
	}
	spec.Mounts = mounts
	spec.Linux.Resources = nil
}
