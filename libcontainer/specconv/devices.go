package specconv

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"

	devices "github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// AllowedDevices are the devices every container gets: the nodes the
// runtime-spec's "default devices" require (/dev/null, zero, full, tty,
// urandom, random) and cgroup rules for the rest of them (/dev/console
// 5:1, /dev/ptmx 5:2, the /dev/pts/* ptys 136:*), for /dev/net/tun 10:200,
// and for mknod (but not use) of any device. Each is a *devices.Device
// whose embedded Rule allows it.
//
// Entries that are only cgroup rules have an empty Path: the runtime
// creates no node for them (the console and ptmx are bind mounts or
// symlinks, the ptys live on devpts). Code that creates device nodes from
// this list must skip them.
var AllowedDevices = []*devices.Device{
	// mknod of any device node is allowed; opening it is not, unless a
	// later rule allows it. Container images need mknod for whiteouts
	// (0:0) and to unpack archives that hold device files.
	{Rule: devices.Rule{Type: devices.CharDevice, Major: devices.Wildcard, Minor: devices.Wildcard, Permissions: "m", Allow: true}},
	{Rule: devices.Rule{Type: devices.BlockDevice, Major: devices.Wildcard, Minor: devices.Wildcard, Permissions: "m", Allow: true}},

	node("/dev/null", 1, 3),
	node("/dev/zero", 1, 5),
	node("/dev/full", 1, 7),
	node("/dev/tty", 5, 0),
	node("/dev/urandom", 1, 9),
	node("/dev/random", 1, 8),

	// /dev/console is the bind-mounted pty of the container's terminal.
	rule(5, 1),
	// /dev/ptmx is a symlink to pts/ptmx of the container's devpts.
	rule(5, 2),
	// The ptys that devpts hands out: major 136 to 143 in the kernel, but
	// the first one covers 1,048,576 ptys, far more than a container has.
	rule(136, devices.Wildcard),
	// /dev/net/tun: without it the container could not create tun/tap
	// interfaces in its own network namespace (VPN clients, slirp4netns
	// inside a container). The node itself must be listed in the spec.
	rule(10, 200),
}

// node is a character device that the runtime creates in every container.
func node(path string, major, minor int64) *devices.Device {
	d := rule(major, minor)
	d.Path = path
	d.FileMode = 0o666
	return d
}

// rule is a character device that is allowed but not created.
func rule(major, minor int64) *devices.Device {
	return &devices.Device{Rule: devices.Rule{
		Type:        devices.CharDevice,
		Major:       major,
		Minor:       minor,
		Permissions: "rwm",
		Allow:       true,
	}}
}

var deviceTypes = map[string]devices.Type{
	"c": devices.CharDevice,
	// "u" is an unbuffered character device: mknod(1) makes both the
	// same way.
	"u": devices.CharDevice,
	"b": devices.BlockDevice,
	"p": devices.FifoDevice,
}

// convertDevices sets c.Devices to the default nodes plus linux.devices,
// a spec device replacing a default one of the same path.
func convertDevices(c *configs.Config, specDevices []specs.LinuxDevice) error {
	converted := make([]*devices.Device, 0, len(specDevices))
	inSpec := make(map[string]bool, len(specDevices))
	for i := range specDevices {
		d, err := convertDevice(fmt.Sprintf("linux.devices[%d]", i), &specDevices[i])
		if err != nil {
			return err
		}
		p := filepath.Clean(d.Path)
		if inSpec[p] {
			return fieldError(fmt.Sprintf("linux.devices[%d].path", i), "%q is listed twice", d.Path)
		}
		inSpec[p] = true
		converted = append(converted, d)
	}
	c.Devices = make([]*devices.Device, 0, len(AllowedDevices)+len(converted))
	for _, d := range AllowedDevices {
		if d.Path == "" || inSpec[d.Path] {
			continue
		}
		// A copy: the caller may change its config, never the
		// package's defaults.
		dc := *d
		c.Devices = append(c.Devices, &dc)
	}
	c.Devices = append(c.Devices, converted...)
	return nil
}

func convertDevice(field string, d *specs.LinuxDevice) (*devices.Device, error) {
	if d.Path == "" {
		return nil, fieldError(field+".path", "empty")
	}
	if !filepath.IsAbs(d.Path) {
		return nil, fieldError(field+".path", "%q is not absolute", d.Path)
	}
	t, ok := deviceTypes[d.Type]
	if !ok {
		return nil, fieldError(field+".type", "unknown device type %q (want c, b, u or p)", d.Type)
	}
	out := &devices.Device{
		Rule: devices.Rule{Type: t, Major: d.Major, Minor: d.Minor, Permissions: "rwm", Allow: true},
		Path: d.Path,
		// The spec's default: every user may read and write, as for
		// the default devices; the cgroup decides what is usable.
		FileMode: 0o666,
	}
	if t == devices.FifoDevice {
		// A fifo has no device number; keep none so that no rule is
		// derived from it.
		out.Major, out.Minor = 0, 0
	} else {
		if d.Major < 0 || d.Major > math.MaxUint32 {
			return nil, fieldError(field+".major", "%d is not a device number", d.Major)
		}
		if d.Minor < 0 || d.Minor > math.MaxUint32 {
			return nil, fieldError(field+".minor", "%d is not a device number", d.Minor)
		}
	}
	if d.FileMode != nil {
		// Only the permission bits: the type comes from "type", and
		// tools that fill fileMode from a Go os.Stat also set Go's
		// ModeDevice bits, which mean nothing to mknod(2).
		out.FileMode = *d.FileMode & os.ModePerm
	}
	if d.UID != nil {
		out.Uid = *d.UID
	}
	if d.GID != nil {
		out.Gid = *d.GID
	}
	return out, nil
}

// deviceRules is the cgroup device list: deny everything, then the
// spec's linux.resources.devices in order, then the default devices.
//
// Later rules win. The spec's own list comes first so that its usual
// leading deny-all cannot take away the default devices; the deny-all in
// front keeps a spec without any rule from allowing every host device.
// The nodes of linux.devices get no rule of their own, as with runc: the
// node is made, and whether it may be used is linux.resources.devices'
// decision, so a deny rule there stands (engines that pass a device
// through, such as `docker run --device`, allow it there too).
func deviceRules(specRules []specs.LinuxDeviceCgroup) ([]*devices.Rule, error) {
	rules := make([]*devices.Rule, 0, 1+len(specRules)+len(AllowedDevices))
	rules = append(rules, &devices.Rule{
		Type:        devices.WildcardDevice,
		Major:       devices.Wildcard,
		Minor:       devices.Wildcard,
		Permissions: "rwm",
		Allow:       false,
	})
	for i, r := range specRules {
		cr, err := convertDeviceRule(fmt.Sprintf("linux.resources.devices[%d]", i), r)
		if err != nil {
			return nil, err
		}
		rules = append(rules, cr)
	}
	for _, d := range AllowedDevices {
		r := d.Rule
		rules = append(rules, &r)
	}
	return rules, nil
}

func convertDeviceRule(field string, r specs.LinuxDeviceCgroup) (*devices.Rule, error) {
	out := &devices.Rule{
		Type:  devices.WildcardDevice,
		Major: devices.Wildcard,
		Minor: devices.Wildcard,
		// An unset access, like an unset type or number, means "all".
		Permissions: "rwm",
		Allow:       r.Allow,
	}
	switch r.Type {
	case "", "a":
	case "c":
		out.Type = devices.CharDevice
	case "b":
		out.Type = devices.BlockDevice
	default:
		return nil, fieldError(field+".type", "unknown device type %q (want a, c or b)", r.Type)
	}
	if r.Major != nil {
		if *r.Major < devices.Wildcard || *r.Major > math.MaxUint32 {
			return nil, fieldError(field+".major", "%d is not a device number", *r.Major)
		}
		out.Major = *r.Major
	}
	if r.Minor != nil {
		if *r.Minor < devices.Wildcard || *r.Minor > math.MaxUint32 {
			return nil, fieldError(field+".minor", "%d is not a device number", *r.Minor)
		}
		out.Minor = *r.Minor
	}
	if r.Access != "" {
		p, err := deviceAccess(field+".access", r.Access)
		if err != nil {
			return nil, err
		}
		out.Permissions = p
	}
	return out, nil
}

// deviceAccess reads the access of a device rule: letters of r, w and m.
// Other letters are dropped with a warning, as runc does: the rule then
// covers less, never more. An access with none of the three is refused:
// dropped to nothing it would read as unset, which means all three.
func deviceAccess(field, access string) (devices.Permissions, error) {
	var kept, dropped []rune
	for _, ch := range access {
		switch {
		case ch != 'r' && ch != 'w' && ch != 'm':
			dropped = append(dropped, ch)
		case !slices.Contains(kept, ch):
			kept = append(kept, ch)
		}
	}
	if len(kept) == 0 {
		return "", fieldError(field, "%q has none of r, w and m", access)
	}
	if len(dropped) > 0 {
		slog.Warn(field+": ignoring unknown access letters", "access", access, "ignored", string(dropped))
	}
	return devices.Permissions(string(kept)), nil
}
