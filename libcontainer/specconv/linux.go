package specconv

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// convertLinux maps the linux object's fields that are neither
// namespaces, mounts, devices, cgroups nor seccomp.
func convertLinux(c *configs.Config, linux *specs.Linux) error {
	c.Sysctl = maps.Clone(linux.Sysctl)
	c.MountLabel = linux.MountLabel

	var err error
	if c.RootPropagation, err = parseRootPropagation(linux.RootfsPropagation); err != nil {
		return err
	}
	if c.MaskPaths, err = absolutePaths("linux.maskedPaths", linux.MaskedPaths); err != nil {
		return err
	}
	if c.ReadonlyPaths, err = absolutePaths("linux.readonlyPaths", linux.ReadonlyPaths); err != nil {
		return err
	}
	if c.Personality, err = convertPersonality(linux.Personality); err != nil {
		return err
	}
	if c.TimeOffsets, err = convertTimeOffsets(c, linux.TimeOffsets); err != nil {
		return err
	}
	if c.IntelRdt, err = convertIntelRdt(linux.IntelRdt); err != nil {
		return err
	}
	if c.NetDevices, err = convertNetDevices(c, linux.NetDevices); err != nil {
		return err
	}
	if c.MemoryPolicy, err = convertMemoryPolicy(linux.MemoryPolicy); err != nil {
		return err
	}
	return nil
}

// parseRootPropagation returns 0 for an empty value: configs reads it as
// rprivate, the only choice that keeps host mounts from leaking in.
func parseRootPropagation(p string) (int, error) {
	if p == "" {
		return 0, nil
	}
	flags, ok := propagationFlags[p]
	if !ok {
		return 0, fieldError("linux.rootfsPropagation", "unknown propagation %q", p)
	}
	return flags, nil
}

// absolutePaths copies masked or read-only paths. The spec requires them
// absolute; a relative one would be resolved against whatever directory
// init happens to be in.
func absolutePaths(field string, paths []string) ([]string, error) {
	for i, p := range paths {
		if !filepath.IsAbs(p) {
			return nil, fieldError(fmt.Sprintf("%s[%d]", field, i), "%q is not absolute", p)
		}
	}
	return slices.Clone(paths), nil
}

func convertPersonality(p *specs.LinuxPersonality) (*configs.Personality, error) {
	if p == nil {
		return nil, nil
	}
	switch p.Domain {
	case specs.PerLinux, specs.PerLinux32:
	default:
		return nil, fieldError("linux.personality.domain", "unknown domain %q", p.Domain)
	}
	// The spec defines no flags yet; accepting one would silently ignore
	// what the user asked for.
	if len(p.Flags) > 0 {
		return nil, fieldError("linux.personality.flags[0]", "unsupported flag %q", p.Flags[0])
	}
	return &configs.Personality{Domain: string(p.Domain)}, nil
}

// convertTimeOffsets checks the clock names and that the offsets can be
// written at all: the kernel takes them only for a time namespace that no
// process has entered yet, so a joined one cannot have them.
func convertTimeOffsets(c *configs.Config, offsets map[string]specs.LinuxTimeOffset) (map[string]specs.LinuxTimeOffset, error) {
	if len(offsets) == 0 {
		return nil, nil
	}
	if !c.Namespaces.IsPrivate(configs.NEWTIME) {
		return nil, fieldError("linux.timeOffsets", "set without a new time namespace")
	}
	for _, clock := range slices.Sorted(maps.Keys(offsets)) {
		if clock != "monotonic" && clock != "boottime" {
			return nil, fieldError("linux.timeOffsets", "unknown clock %q (want monotonic or boottime)", clock)
		}
		if ns := offsets[clock].Nanosecs; ns >= 1e9 {
			return nil, fieldError("linux.timeOffsets."+clock+".nanosecs", "%d is not below one second", ns)
		}
	}
	return maps.Clone(offsets), nil
}

// convertIntelRdt checks what the spec forbids: each schema becomes a
// line of the resctrl schemata file, so a newline would smuggle in
// another line.
func convertIntelRdt(r *specs.LinuxIntelRdt) (*configs.IntelRdt, error) {
	if r == nil {
		return nil, nil
	}
	// closID names a directory under /sys/fs/resctrl; "/" is the spec's
	// name for the default group.
	if (strings.Contains(r.ClosID, "/") && r.ClosID != "/") || r.ClosID == "." || r.ClosID == ".." {
		return nil, fieldError("linux.intelRdt.closID", "%q is not a resctrl group name", r.ClosID)
	}
	if strings.ContainsAny(r.L3CacheSchema, "\n") {
		return nil, fieldError("linux.intelRdt.l3CacheSchema", "%q contains a newline", r.L3CacheSchema)
	}
	if r.MemBwSchema != "" && (!strings.HasPrefix(r.MemBwSchema, "MB:") || strings.Contains(r.MemBwSchema, "\n")) {
		return nil, fieldError("linux.intelRdt.memBwSchema", "%q is not one line starting with \"MB:\"", r.MemBwSchema)
	}
	for i, s := range r.Schemata {
		if strings.Contains(s, "\n") {
			return nil, fieldError(fmt.Sprintf("linux.intelRdt.schemata[%d]", i), "%q contains a newline", s)
		}
	}
	return &configs.IntelRdt{
		ClosID:           r.ClosID,
		L3CacheSchema:    r.L3CacheSchema,
		MemBwSchema:      r.MemBwSchema,
		Schemata:         slices.Clone(r.Schemata),
		EnableMonitoring: r.EnableMonitoring,
	}, nil
}

// convertNetDevices checks the interface names the kernel would refuse
// (it accepts at most 15 bytes, no '/', ':' or white space) so that the
// error names the field instead of surfacing as a netlink EINVAL.
func convertNetDevices(c *configs.Config, devs map[string]specs.LinuxNetDevice) (map[string]*configs.NetDevice, error) {
	if len(devs) == 0 {
		return nil, nil
	}
	// Without a network namespace of its own the container already sees
	// every host device; "moving" one would move it nowhere.
	if !c.Namespaces.Contains(configs.NEWNET) {
		return nil, fieldError("linux.netDevices", "set without a network namespace")
	}
	out := make(map[string]*configs.NetDevice, len(devs))
	for _, host := range slices.Sorted(maps.Keys(devs)) {
		field := fmt.Sprintf("linux.netDevices[%q]", host)
		if !validIfName(host) {
			return nil, fieldError(field, "%q is not a network interface name", host)
		}
		name := devs[host].Name
		if name != "" && !validIfName(name) {
			return nil, fieldError(field+".name", "%q is not a network interface name", name)
		}
		out[host] = &configs.NetDevice{Name: name}
	}
	return out, nil
}

// validIfName follows the kernel's dev_valid_name. A "%d" template, which
// the spec allows for the name inside the container, passes too.
func validIfName(name string) bool {
	const ifNameSize = 16 // IFNAMSIZ, with the terminating NUL
	if name == "" || len(name) >= ifNameSize || name == "." || name == ".." {
		return false
	}
	for _, r := range name {
		if r == '/' || r == ':' || r == ' ' || r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r' {
			return false
		}
	}
	return true
}
