package validate

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	devices "github.com/opencontainers/cgroups/devices/config"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// msFlags names the MS_* flags by the mount(8) option that sets them.
var msFlags = []struct {
	flag int
	name string
}{
	{unix.MS_RDONLY, "ro"},
	{unix.MS_NOSUID, "nosuid"},
	{unix.MS_NODEV, "nodev"},
	{unix.MS_NOEXEC, "noexec"},
	{unix.MS_SYNCHRONOUS, "sync"},
	{unix.MS_REMOUNT, "remount"},
	{unix.MS_MANDLOCK, "mand"},
	{unix.MS_DIRSYNC, "dirsync"},
	{unix.MS_NOSYMFOLLOW, "nosymfollow"},
	{unix.MS_NOATIME, "noatime"},
	{unix.MS_NODIRATIME, "nodiratime"},
	{unix.MS_BIND, "bind"},
	{unix.MS_MOVE, "move"},
	{unix.MS_REC, "rec"},
	{unix.MS_SILENT, "silent"},
	{unix.MS_POSIXACL, "acl"},
	{unix.MS_UNBINDABLE, "unbindable"},
	{unix.MS_PRIVATE, "private"},
	{unix.MS_SLAVE, "slave"},
	{unix.MS_SHARED, "shared"},
	{unix.MS_RELATIME, "relatime"},
	{unix.MS_I_VERSION, "iversion"},
	{unix.MS_STRICTATIME, "strictatime"},
	{unix.MS_LAZYTIME, "lazytime"},
}

const (
	propagations = unix.MS_PRIVATE | unix.MS_SLAVE | unix.MS_SHARED | unix.MS_UNBINDABLE
	atimes       = unix.MS_NOATIME | unix.MS_RELATIME | unix.MS_STRICTATIME
	// clearable are the per-mount options a config can turn off ("rw",
	// "suid", "exec", ...); the others are operations, not options.
	clearable = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC |
		unix.MS_SYNCHRONOUS | unix.MS_MANDLOCK | unix.MS_DIRSYNC | unix.MS_NOSYMFOLLOW |
		atimes | unix.MS_NODIRATIME | unix.MS_POSIXACL | unix.MS_I_VERSION |
		unix.MS_LAZYTIME | unix.MS_SILENT
)

var knownFlags = func() int {
	all := 0
	for _, f := range msFlags {
		all |= f.flag
	}
	return all
}()

// flagNames spells a flag word as mount options ("nosuid,nodev").
func flagNames(flags int) string {
	var names []string
	for _, f := range msFlags {
		if flags&f.flag != 0 {
			names = append(names, f.name)
		}
	}
	return strings.Join(names, ",")
}

// validPropagation accepts one propagation type, optionally recursive:
// mount(2) refuses a word with two.
func validPropagation(p int) bool {
	switch p &^ unix.MS_REC {
	case unix.MS_PRIVATE, unix.MS_SLAVE, unix.MS_SHARED, unix.MS_UNBINDABLE:
		return true
	}
	return false
}

// procBinds are the files under /proc a mount may cover: the ones lxcfs
// virtualises. Anything else mounted over procfs could hide what the
// runtime masks, or redirect its writes to /proc.
var procBinds = map[string]bool{
	"/proc/cpuinfo":                 true,
	"/proc/diskstats":               true,
	"/proc/meminfo":                 true,
	"/proc/stat":                    true,
	"/proc/swaps":                   true,
	"/proc/uptime":                  true,
	"/proc/loadavg":                 true,
	"/proc/slabinfo":                true,
	"/proc/sys/kernel/ns_last_pid":  true,
	"/proc/sys/crypto/fips_enabled": true,
}

func (v *checker) mounts() {
	for i, m := range v.c.Mounts {
		f := fmt.Sprintf("mounts[%d]", i)
		if m == nil {
			v.failf(f, nil, "is null")
			continue
		}
		destOK := v.containerPath(f+".destination", m.Destination)
		bind := m.IsBind()
		if bind {
			// Only absolute: a source is looked up when its mount is
			// made, in order, and may come from an earlier mount.
			v.absPath(f+".source", m.Source)
		} else if m.Device == "" {
			v.failf(f+".device", nil, "must be set: only a bind mount may leave out the filesystem type")
		}
		v.mountFlags(f, m)
		if m.Relabel != "" && m.Relabel != "z" && m.Relabel != "Z" {
			v.failf(f+".relabel", m.Relabel, `is not "z" or "Z"`)
		}
		if m.IDMapping != nil {
			if !bind {
				v.failf(f+".id_mapping", nil, "needs a bind mount: only binds can be idmapped")
			}
			joined := v.c.Namespaces.PathOf(configs.NEWUSER) != ""
			nUID, nGID := len(m.IDMapping.UIDMappings), len(m.IDMapping.GIDMappings)
			switch {
			case nUID == 0 && nGID == 0 && joined:
				// Mapped as the user namespace joined.
			case nUID == 0:
				v.failf(f+".id_mapping.uid_mappings", nil, "an idmapped mount needs uid and gid mappings (or a user namespace joined by path)")
			case nGID == 0:
				v.failf(f+".id_mapping.gid_mappings", nil, "an idmapped mount needs uid and gid mappings (or a user namespace joined by path)")
			}
			v.idMaps(f+".id_mapping.uid_mappings", m.IDMapping.UIDMappings)
			v.idMaps(f+".id_mapping.gid_mappings", m.IDMapping.GIDMappings)
		}
		if m.RecAttr != nil {
			v.recAttr(f+".rec_attr", m.RecAttr)
		}
		if m.TmpCopyUp && m.Device != "tmpfs" {
			v.failf(f+".tmpcopyup", true, "is for a tmpfs, not a %q mount", m.Device)
		}
		if destOK {
			v.procMount(f, m)
		}
	}
}

// containerPath checks a path inside the container. A ".." that climbs
// above the root is clamped by the runtime's in-root resolution, but in a
// config it means the author expected to reach outside: that is refused.
func (v *checker) containerPath(field, p string) bool {
	if !v.absPath(field, p) {
		return false
	}
	depth := 0
	for c := range strings.SplitSeq(p, "/") {
		switch c {
		case "", ".":
		case "..":
			if depth--; depth < 0 {
				v.failf(field, p, `has a ".." that climbs out of the root`)
				return false
			}
		default:
			depth++
		}
	}
	return true
}

func (v *checker) mountFlags(f string, m *configs.Mount) {
	if bad := m.Flags &^ knownFlags; bad != 0 {
		v.failf(f+".flags", hex(m.Flags), "has unknown bits %#x", bad)
	}
	if p := m.Flags & propagations; p != 0 {
		v.failf(f+".flags", hex(m.Flags), "has propagation flags (%s); they belong in propagation_flags", flagNames(p))
	}
	if a := m.Flags & atimes; a&(a-1) != 0 {
		v.failf(f+".flags", hex(m.Flags), "sets more than one of noatime, relatime and strictatime (%s)", flagNames(a))
	}
	if m.Flags&unix.MS_BIND != 0 && m.Flags&unix.MS_MOVE != 0 {
		v.failf(f+".flags", hex(m.Flags), "sets both bind and move")
	}
	if bad := m.ClearedFlags &^ clearable; bad != 0 {
		what := flagNames(bad)
		if bad&^knownFlags != 0 {
			what = hex(bad).String()
		}
		v.failf(f+".cleared_flags", hex(m.ClearedFlags), "clears %s, which is not a mount option that can be turned off", what)
	}
	if both := m.Flags & m.ClearedFlags & clearable; both != 0 {
		v.failf(f+".cleared_flags", flagNames(both), "is also set in flags")
	}
	for j, p := range m.PropagationFlags {
		if !validPropagation(p) {
			v.failf(fmt.Sprintf("%s.propagation_flags[%d]", f, j), hex(p), "is not a propagation (private, slave, shared or unbindable, optionally recursive)")
		}
	}
}

const (
	knownAttrs = unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV |
		unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR__ATIME | unix.MOUNT_ATTR_NODIRATIME |
		unix.MOUNT_ATTR_NOSYMFOLLOW
)

// recAttr follows the rules mount_setattr(2) enforces, so that they fail
// here with a field name instead of EINVAL during the start.
func (v *checker) recAttr(f string, a *unix.MountAttr) {
	if bad := (a.Attr_set | a.Attr_clr) &^ knownAttrs; bad != 0 {
		v.failf(f, hex(bad), "are not mount attributes a config can set or clear")
	}
	// An atime mode is set by clearing the whole atime field and setting
	// one value in it, so these bits may appear on both sides.
	if both := a.Attr_set & a.Attr_clr &^ unix.MOUNT_ATTR__ATIME; both != 0 {
		v.failf(f+".Attr_clr", hex(both), "are also in Attr_set")
	}
	if clr := a.Attr_clr & unix.MOUNT_ATTR__ATIME; clr != 0 && clr != unix.MOUNT_ATTR__ATIME {
		v.failf(f+".Attr_clr", hex(a.Attr_clr), "must clear all of the atime bits (%#x) or none", unix.MOUNT_ATTR__ATIME)
	}
	if set := a.Attr_set & unix.MOUNT_ATTR__ATIME; set != 0 && a.Attr_clr&unix.MOUNT_ATTR__ATIME == 0 {
		v.failf(f+".Attr_set", hex(a.Attr_set), "sets an atime mode without clearing the atime bits (%#x)", unix.MOUNT_ATTR__ATIME)
	}
	switch a.Propagation {
	case 0, unix.MS_PRIVATE, unix.MS_SLAVE, unix.MS_SHARED, unix.MS_UNBINDABLE:
	default:
		v.failf(f+".Propagation", hex(a.Propagation), "is not one of MS_PRIVATE, MS_SLAVE, MS_SHARED, MS_UNBINDABLE")
	}
	if a.Userns_fd != 0 {
		v.failf(f+".Userns_fd", a.Userns_fd, "must be 0: a file descriptor means nothing in a config; use id_mapping")
	}
}

// procMount keeps /proc a procfs: the runtime masks paths in it, and a
// mount over it (or in it) could undo that or send its writes elsewhere.
func (v *checker) procMount(f string, m *configs.Mount) {
	dest := filepath.Clean(m.Destination)
	switch {
	case dest == "/proc":
		if m.Device == "proc" {
			return
		}
		if m.IsBind() && isProcfs(m.Source) {
			// runc allows it; it is the host's processes, and through
			// /proc/1/root the host's files, in the container.
			v.failf(f+".source", m.Source, "is a procfs of the host: bound on /proc it would show the container the host's processes, and through /proc/1/root the host's files; mount a new one (type \"proc\")")
			return
		}
		v.failf(f+".destination", m.Destination, "can only take a proc filesystem")
	case strings.HasPrefix(dest, "/proc/"):
		if m.IsBind() && procBinds[dest] {
			return
		}
		v.failf(f+".destination", m.Destination, "is inside /proc, where only binds over the files lxcfs provides are allowed")
	}
}

func isProcfs(p string) bool {
	var st unix.Statfs_t
	return unix.Statfs(p, &st) == nil && st.Type == unix.PROC_SUPER_MAGIC
}

func (v *checker) maskedPaths() {
	for i, p := range v.c.MaskPaths {
		v.containerPath(fmt.Sprintf("mask_paths[%d]", i), p)
	}
	for i, p := range v.c.ReadonlyPaths {
		v.containerPath(fmt.Sprintf("readonly_paths[%d]", i), p)
	}
}

func (v *checker) rootPropagation() {
	if p := v.c.RootPropagation; p != 0 && !validPropagation(p) {
		v.failf("root_propagation", hex(p), "is not a propagation (MS_PRIVATE, MS_SLAVE, MS_SHARED or MS_UNBINDABLE, optionally with MS_REC)")
	}
}

const (
	// The kernel's dev_t holds 12 bits of major and 20 of minor.
	maxMajor = 1<<12 - 1
	maxMinor = 1<<20 - 1
	// deviceModeBits are the bits of a device's FileMode that mknod can
	// express: permissions, and the node's own type.
	deviceModeBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky |
		fs.ModeDevice | fs.ModeCharDevice | fs.ModeNamedPipe
)

func (v *checker) devices() {
	seen := make(map[string]int)
	for i, d := range v.c.Devices {
		f := fmt.Sprintf("devices[%d]", i)
		if d == nil {
			v.failf(f, nil, "is null")
			continue
		}
		if d.Path == "" {
			// A device without a node is only a cgroup rule, such as
			// specconv.AllowedDevices' wildcards.
			v.deviceRule(f, d)
			continue
		}
		if v.containerPath(f+".path", d.Path) {
			clean := filepath.Clean(d.Path)
			// The runtime spec lets a device node live anywhere in the
			// container, not only under /dev.
			if clean == "/" || clean == "/dev" {
				v.failf(f+".path", d.Path, "is not a file path")
			} else if j, dup := seen[clean]; dup {
				v.failf(f+".path", d.Path, "is listed twice (also devices[%d])", j)
			} else {
				seen[clean] = i
			}
		}
		switch d.Type {
		case 'c', 'u', 'b':
			if d.Major < 0 || d.Major > maxMajor {
				v.failf(f+".major", d.Major, "is not a major number (0 to %d)", maxMajor)
			}
			if d.Minor < 0 || d.Minor > maxMinor {
				v.failf(f+".minor", d.Minor, "is not a minor number (0 to %d)", maxMinor)
			}
		case 'p':
		default:
			v.failf(f+".type", string(rune(d.Type)), "is not a type of device node (c, u, b or p)")
		}
		if bad := d.FileMode &^ deviceModeBits; bad != 0 {
			v.failf(f+".file_mode", d.FileMode, "has bits other than permissions and a device type")
		}
		if d.Permissions != "" && !validPermissions(string(d.Permissions)) {
			v.failf(f+".permissions", string(d.Permissions), `is not a combination of "r", "w" and "m"`)
		}
	}
}

// deviceRule checks a device that is a cgroup rule only.
func (v *checker) deviceRule(f string, d *devices.Device) {
	if !d.Type.CanCgroup() {
		v.failf(f+".type", string(rune(d.Type)), "is not a cgroup device type (a, c or b)")
	}
	if d.Major < devices.Wildcard || d.Major > maxMajor {
		v.failf(f+".major", d.Major, "is not a major number (0 to %d, or -1 for any)", maxMajor)
	}
	if d.Minor < devices.Wildcard || d.Minor > maxMinor {
		v.failf(f+".minor", d.Minor, "is not a minor number (0 to %d, or -1 for any)", maxMinor)
	}
	if !validPermissions(string(d.Permissions)) {
		v.failf(f+".permissions", string(d.Permissions), `is not a combination of "r", "w" and "m"`)
	}
}

// validPermissions takes any order but no repeats; the cgroups library's
// own check also insists on the order "rwm".
func validPermissions(p string) bool {
	if len(p) > 3 {
		return false
	}
	seen := 0
	for _, c := range p {
		bit := strings.IndexRune("rwm", c)
		if bit < 0 || seen&(1<<bit) != 0 {
			return false
		}
		seen |= 1 << bit
	}
	return true
}
