// Package specconv turns an OCI runtime-spec config.json (versions 1.x, up
// to 1.3) into the configs.Config that libcontainer runs, and provides the
// default spec that `corral spec` writes.
//
// The conversion checks what only the spec's JSON can name: every error
// starts with the JSON path of the offending field and quotes its value,
// for example
//
//	linux.namespaces[2].type: unknown namespace type "foo"
//
// It is not the place for checks that need the host (does the rootfs
// exist, is the kernel new enough) or the whole config at once: a
// converted config still goes through configs/validate. Programs that
// build a configs.Config themselves need nothing here but AllowedDevices.
package specconv

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// CreateOpts are the inputs of CreateLibcontainerConfig.
type CreateOpts struct {
	CgroupName       string // container id, used for the cgroup name when cgroupsPath is empty
	UseSystemdCgroup bool
	NoPivotRoot      bool
	NoNewKeyring     bool
	Spec             *specs.Spec
	RootlessEUID     bool
	RootlessCgroups  bool
}

// FieldError is a field of the spec that cannot be converted. Its
// message starts with the field's JSON path, so that a user can find it
// in config.json without guessing; callers that report it about another
// object than config.json (exec's process) rewrite Field.
type FieldError struct {
	// Field is the JSON path of the field: "linux.namespaces[2].type".
	Field string
	// Reason says what is wrong, quoting the value.
	Reason string
}

// Error reads "field: reason".
func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

func fieldError(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// CreateLibcontainerConfig converts opts.Spec. Errors name the JSON field
// path and value, e.g. `linux.namespaces[2].type: unknown namespace type
// "foo"`.
//
// Relative paths of the spec (root.path, the source of bind mounts) are
// relative to the bundle; they are made absolute against the current
// directory, so the caller runs this from the bundle directory, as the
// CLI does. opts.Spec is not modified.
func CreateLibcontainerConfig(opts *CreateOpts) (*configs.Config, error) {
	if opts == nil || opts.Spec == nil {
		return nil, errors.New("no spec to convert")
	}
	spec := opts.Spec
	if err := checkVersion(spec.Version); err != nil {
		return nil, err
	}
	if spec.Root == nil {
		return nil, fieldError("root", "missing")
	}
	if spec.Root.Path == "" {
		return nil, fieldError("root.path", "empty")
	}
	rootfs, err := filepath.Abs(spec.Root.Path)
	if err != nil {
		return nil, fieldError("root.path", "%q: %v", spec.Root.Path, err)
	}
	c := &configs.Config{
		Rootfs:          rootfs,
		Readonlyfs:      spec.Root.Readonly,
		NoPivotRoot:     opts.NoPivotRoot,
		NoNewKeyring:    opts.NoNewKeyring,
		Hostname:        spec.Hostname,
		Domainname:      spec.Domainname,
		Version:         spec.Version,
		Labels:          labels(spec.Annotations),
		RootlessEUID:    opts.RootlessEUID,
		RootlessCgroups: opts.RootlessCgroups,
	}
	// A spec without a linux object still gets the mount-namespace error
	// below instead of a nil dereference in every step.
	linux := spec.Linux
	if linux == nil {
		linux = &specs.Linux{}
	}

	// The order matters: mounts read the id mappings (idmap without
	// mappings of its own borrows the container's), and the cgroup's
	// device rules read the devices.
	if err := convertNamespaces(c, linux.Namespaces, opts.RootlessEUID); err != nil {
		return nil, err
	}
	if err := convertUserMappings(c, linux); err != nil {
		return nil, err
	}
	if err := convertMounts(c, spec.Mounts); err != nil {
		return nil, err
	}
	if err := convertDevices(c, linux.Devices); err != nil {
		return nil, err
	}
	if err := convertCgroup(c, opts, linux); err != nil {
		return nil, err
	}
	if c.Seccomp, err = convertSeccomp(linux.Seccomp); err != nil {
		return nil, err
	}
	if err := convertLinux(c, linux); err != nil {
		return nil, err
	}
	if err := convertProcess(c, spec.Process); err != nil {
		return nil, err
	}
	cgroupOwner(c, spec.Process, cgroups.IsCgroup2UnifiedMode())
	if c.Hooks, err = convertHooks(spec.Hooks); err != nil {
		return nil, err
	}
	return c, nil
}

// checkVersion refuses specs of another major version: their fields may
// mean something else. An empty version is accepted, as older tools leave
// it out although the spec requires it.
func checkVersion(v string) error {
	if v == "" {
		return nil
	}
	major, _, _ := strings.Cut(v, ".")
	if n, err := strconv.Atoi(major); err != nil || n != 1 {
		return fieldError("ociVersion", "%q is not a supported version (want 1.x)", v)
	}
	return nil
}

// labels stores the annotations as "key=value", sorted so that the same
// spec always gives the same config.
func labels(annotations map[string]string) []string {
	if len(annotations) == 0 {
		return nil
	}
	out := make([]string, 0, len(annotations))
	for _, k := range slices.Sorted(maps.Keys(annotations)) {
		out = append(out, k+"="+annotations[k])
	}
	return out
}

var namespaceTypes = map[specs.LinuxNamespaceType]configs.NamespaceType{
	specs.PIDNamespace:     configs.NEWPID,
	specs.NetworkNamespace: configs.NEWNET,
	specs.MountNamespace:   configs.NEWNS,
	specs.IPCNamespace:     configs.NEWIPC,
	specs.UTSNamespace:     configs.NEWUTS,
	specs.UserNamespace:    configs.NEWUSER,
	specs.CgroupNamespace:  configs.NEWCGROUP,
	specs.TimeNamespace:    configs.NEWTIME,
}

func convertNamespaces(c *configs.Config, nss []specs.LinuxNamespace, rootless bool) error {
	for i, ns := range nss {
		field := fmt.Sprintf("linux.namespaces[%d]", i)
		t, ok := namespaceTypes[ns.Type]
		if !ok {
			return fieldError(field+".type", "unknown namespace type %q", ns.Type)
		}
		if c.Namespaces.Contains(t) {
			return fieldError(field+".type", "duplicate namespace %q", ns.Type)
		}
		if ns.Path != "" && !filepath.IsAbs(ns.Path) {
			return fieldError(field+".path", "%q is not absolute", ns.Path)
		}
		c.Namespaces = append(c.Namespaces, configs.Namespace{Type: t, Path: ns.Path})
	}
	// runc starts such a container with a warning, and makes its mounts
	// (the rootfs bound onto itself, /proc, /dev, ...) in the host's
	// mount table, where they stay after the container is gone.
	if !c.Namespaces.Contains(configs.NEWNS) {
		return fieldError("linux.namespaces", `a mount namespace is required: without one the container's mounts would be made on the host, and left there; add {"type": "mount"}`)
	}
	// Without root on the host only a user namespace grants the
	// capabilities that creating the other namespaces needs.
	if rootless && !c.Namespaces.Contains(configs.NEWUSER) {
		return fieldError("linux.namespaces", "running without root needs a user namespace")
	}
	// The spec gives the container no network interfaces; bringing lo up
	// in a fresh network namespace is what every program expects.
	if c.Namespaces.IsPrivate(configs.NEWNET) {
		c.Networks = []*configs.Network{{Type: "loopback"}}
	}
	return nil
}

func convertUserMappings(c *configs.Config, linux *specs.Linux) error {
	var err error
	if c.UIDMappings, err = convertIDMaps("linux.uidMappings", linux.UIDMappings); err != nil {
		return err
	}
	if c.GIDMappings, err = convertIDMaps("linux.gidMappings", linux.GIDMappings); err != nil {
		return err
	}
	if !c.Namespaces.Contains(configs.NEWUSER) {
		if len(c.UIDMappings) > 0 {
			return fieldError("linux.uidMappings", "set without a user namespace")
		}
		if len(c.GIDMappings) > 0 {
			return fieldError("linux.gidMappings", "set without a user namespace")
		}
		return nil
	}
	// A joined user namespace has its maps already; a new one is useless
	// (every id is nobody) and cannot even setgid without them.
	if c.Namespaces.IsPrivate(configs.NEWUSER) {
		if len(c.UIDMappings) == 0 {
			return fieldError("linux.uidMappings", "a new user namespace needs uid mappings")
		}
		if len(c.GIDMappings) == 0 {
			return fieldError("linux.gidMappings", "a new user namespace needs gid mappings")
		}
	}
	return nil
}

// convertIDMaps checks each range: the kernel refuses empty ranges and
// ranges that run past the 32-bit id space with an EINVAL that names
// nothing.
func convertIDMaps(field string, in []specs.LinuxIDMapping) ([]configs.IDMap, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]configs.IDMap, 0, len(in))
	for i, m := range in {
		if m.Size == 0 {
			return nil, fieldError(fmt.Sprintf("%s[%d].size", field, i), "must be positive")
		}
		const idSpace = 1 << 32
		if int64(m.ContainerID)+int64(m.Size) > idSpace || int64(m.HostID)+int64(m.Size) > idSpace {
			return nil, fieldError(fmt.Sprintf("%s[%d]", field, i), "range of %d ids from containerID %d, hostID %d runs past the 32-bit id space", m.Size, m.ContainerID, m.HostID)
		}
		out = append(out, configs.IDMap{ContainerID: int64(m.ContainerID), HostID: int64(m.HostID), Size: int64(m.Size)})
	}
	return out, nil
}
