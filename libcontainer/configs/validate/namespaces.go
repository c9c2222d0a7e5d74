package validate

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

func (v *checker) namespaces() {
	seen := make(map[configs.NamespaceType]int)
	for i, ns := range v.c.Namespaces {
		f := fmt.Sprintf("namespaces[%d]", i)
		if !ns.Type.Valid() {
			v.failf(f+".type", string(ns.Type), "is not a namespace type (%s)", joinNames(configs.NamespaceTypes()))
			continue
		}
		if j, dup := seen[ns.Type]; dup {
			v.failf(f+".type", string(ns.Type), "is listed twice (also namespaces[%d])", j)
			continue
		}
		seen[ns.Type] = i
		if ns.Path != "" {
			v.namespacePath(f+".path", ns)
		} else if v.m.namespaces != nil && !v.m.namespaces[ns.Type.File()] {
			v.failf(f+".type", string(ns.Type), "is not supported by this kernel (no /proc/self/ns/%s)", ns.Type.File())
		}
	}
	if !v.c.Namespaces.Contains(configs.NEWNS) {
		v.failf("namespaces", nil, "needs NEWNS: the container's mounts and root filesystem are set up in a mount namespace of its own")
	}
}

var errNotNamespace = errors.New("not a namespace file")

// namespacePath checks that a namespace to join is one, of the right type:
// joining a net namespace where a uts one was meant fails only at setns,
// after the other namespaces were already joined.
func (v *checker) namespacePath(field string, ns configs.Namespace) {
	if !v.absPath(field, ns.Path) {
		return
	}
	got, err := namespaceType(ns.Path)
	switch {
	case errors.Is(err, errNotNamespace):
		v.failf(field, ns.Path, "is not a namespace file (like /proc/<pid>/ns/%s)", ns.Type.File())
	case err != nil:
		v.failPath(field, ns.Path, err)
	case got != int(ns.Type.CloneFlag()):
		v.failf(field, ns.Path, "is %s namespace, not %s namespace", article(namespaceName(got)), article(ns.Type.File()))
	}
}

// namespaceType returns the CLONE_NEW* flag of the namespace file at path.
// The path is opened with O_PATH and reopened for the ioctl only once it
// is known to be on nsfs, so a path naming a fifo or a device is never
// really opened: that could block, or have side effects.
func namespaceType(path string) (int, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return 0, &os.PathError{Op: "fstatfs", Path: path, Err: err}
	}
	if st.Type != unix.NSFS_MAGIC {
		return 0, errNotNamespace
	}
	rfd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(fd), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(rfd)
	t, err := unix.IoctlRetInt(rfd, unix.NS_GET_NSTYPE)
	if err != nil {
		return 0, &os.PathError{Op: "ioctl NS_GET_NSTYPE", Path: path, Err: err}
	}
	return t, nil
}

// article puts "a" or "an" before a namespace's name, as it is read:
// "an ipc", but "a uts", "a user".
func article(name string) string {
	if name == "ipc" {
		return "an " + name
	}
	return "a " + name
}

func namespaceName(flag int) string {
	for _, t := range configs.NamespaceTypes() {
		if int(t.CloneFlag()) == flag {
			return t.File()
		}
	}
	return fmt.Sprintf("%#x", flag)
}

// owns reports whether the container has a namespace of type t that is not
// the runtime's: a new one, or one joined by path that is neither the
// runtime's nor that of its pid 1. Settings made there (sysctls, an
// interface up) would otherwise change the host under the container.
func (v *checker) owns(t configs.NamespaceType) bool {
	ns := v.c.Namespaces
	if !ns.Contains(t) {
		return false
	}
	p := ns.PathOf(t)
	if p == "" {
		return true
	}
	return !sameFile(p, "/proc/self/ns/"+t.File()) && !sameFile(p, "/proc/1/ns/"+t.File())
}

// sameFile is false when either file cannot be read: the namespace check
// reports a bad path, the callers of owns should not report it again.
func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false
	}
	return os.SameFile(fa, fb)
}

func (v *checker) userNamespace() {
	c := v.c
	uid, gid := len(c.UIDMappings) > 0, len(c.GIDMappings) > 0
	switch {
	case !c.Namespaces.Contains(configs.NEWUSER):
		if uid {
			v.failf("uid_mappings", nil, "need a new user namespace (NEWUSER) to map")
		}
		if gid {
			v.failf("gid_mappings", nil, "need a new user namespace (NEWUSER) to map")
		}
	case c.Namespaces.PathOf(configs.NEWUSER) != "":
		// The mappings of an existing user namespace are written once,
		// by whoever created it.
		p := c.Namespaces.PathOf(configs.NEWUSER)
		if uid {
			v.failf("uid_mappings", nil, "must be empty when joining the user namespace at %q", p)
		}
		if gid {
			v.failf("gid_mappings", nil, "must be empty when joining the user namespace at %q", p)
		}
	default:
		if !uid {
			v.failf("uid_mappings", nil, "a new user namespace needs uid and gid mappings")
		}
		if !gid {
			v.failf("gid_mappings", nil, "a new user namespace needs uid and gid mappings")
		}
	}
	v.idMaps("uid_mappings", c.UIDMappings)
	v.idMaps("gid_mappings", c.GIDMappings)
	if c.RootlessEUID && !c.Namespaces.Contains(configs.NEWUSER) {
		v.failf("rootless_euid", nil, "needs a user namespace (NEWUSER): without root on the host, only a user namespace grants what a container's setup needs")
	}
}

const (
	// maxID is the last valid id: (uid_t)-1 means "no id" to the kernel.
	maxID = 1<<32 - 2
	// maxExtents is the kernel's limit on the lines of an id map.
	maxExtents = 340
)

// idMaps checks one side (uid or gid) of an id mapping. The kernel refuses
// overlapping ranges with a bare EINVAL when the map is written; here the
// message says which two lines collide.
func (v *checker) idMaps(field string, ms []configs.IDMap) {
	if len(ms) > maxExtents {
		v.failf(field, len(ms), "mappings are more than the kernel's %d", maxExtents)
	}
	var ok []int
	for i, m := range ms {
		f := fmt.Sprintf("%s[%d]", field, i)
		good := true
		if m.ContainerID < 0 || m.ContainerID > maxID {
			v.failf(f+".container_id", m.ContainerID, "is not an id (0 to %d)", int64(maxID))
			good = false
		}
		if m.HostID < 0 || m.HostID > maxID {
			v.failf(f+".host_id", m.HostID, "is not an id (0 to %d)", int64(maxID))
			good = false
		}
		switch {
		case m.Size <= 0:
			v.failf(f+".size", m.Size, "is not positive")
			good = false
		case !good:
		case m.ContainerID+m.Size-1 > maxID || m.HostID+m.Size-1 > maxID:
			v.failf(f+".size", m.Size, "runs past the last id %d", int64(maxID))
			good = false
		}
		if good {
			ok = append(ok, i)
		}
	}
	for x, i := range ok {
		for _, j := range ok[:x] {
			a, b := ms[j], ms[i]
			f := fmt.Sprintf("%s[%d]", field, i)
			if overlap(a.ContainerID, a.Size, b.ContainerID, b.Size) {
				v.failf(f+".container_id", b.ContainerID, "overlaps the container ids of %s[%d]", field, j)
			}
			if overlap(a.HostID, a.Size, b.HostID, b.Size) {
				v.failf(f+".host_id", b.HostID, "overlaps the host ids of %s[%d]", field, j)
			}
		}
	}
}

func overlap(a, an, b, bn int64) bool { return a < b+bn && b < a+an }

func (v *checker) uts() {
	if h := v.c.Hostname; h != "" {
		if !v.c.Namespaces.IsPrivate(configs.NEWUTS) {
			v.failf("hostname", h, "needs a new UTS namespace (NEWUTS)")
		}
		if p := hostnameProblem(h); p != "" {
			v.failf("hostname", h, "%s", p)
		}
	}
	if d := v.c.Domainname; d != "" {
		if !v.c.Namespaces.IsPrivate(configs.NEWUTS) {
			v.failf("domainname", d, "needs a new UTS namespace (NEWUTS)")
		}
		if p := domainnameProblem(d); p != "" {
			v.failf("domainname", d, "%s", p)
		}
	}
}

// maxHostname is the kernel's __NEW_UTS_LEN: sethostname refuses longer.
const maxHostname = 64

// hostnameProblem holds host names to the letters, digits and punctuation
// that resolvers and shells take without quoting. The kernel takes any
// byte, but a space or a slash in a host name breaks what reads it later.
func hostnameProblem(s string) string {
	if len(s) > maxHostname {
		return fmt.Sprintf("is longer than %d bytes", maxHostname)
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '.' || r == '_') {
			return fmt.Sprintf("has %q; a host name is letters, digits, '-', '.' and '_'", r)
		}
	}
	return ""
}

// domainnameProblem is looser than hostnameProblem: NIS domain names
// are free-form ("(none)" is the kernel's default), but still one word.
func domainnameProblem(s string) string {
	if len(s) > maxHostname {
		return fmt.Sprintf("is longer than %d bytes", maxHostname)
	}
	for _, r := range s {
		if r <= ' ' || r > '~' {
			return fmt.Sprintf("has %q; a domain name is printable ASCII without spaces", r)
		}
	}
	return ""
}

func (v *checker) timeOffsets() {
	offs := v.c.TimeOffsets
	if len(offs) == 0 {
		return
	}
	// Offsets can only be written before the first process enters the
	// namespace, so a joined one cannot take them.
	if !v.c.Namespaces.IsPrivate(configs.NEWTIME) {
		v.failf("time_offsets", nil, "need a new time namespace (NEWTIME)")
	}
	for _, k := range slices.Sorted(maps.Keys(offs)) {
		if k != "monotonic" && k != "boottime" {
			v.failf("time_offsets", k, "is not a clock with an offset (monotonic or boottime)")
			continue
		}
		if ns := offs[k].Nanosecs; ns >= 1e9 {
			v.failf("time_offsets."+k+".nanosecs", ns, "is not below 1000000000")
		}
	}
}

// sysctl allows only the keys the kernel scopes to a namespace the
// container owns: any other key is global, and writing it from a
// container would change the host.
func (v *checker) sysctl() {
	for _, k := range slices.Sorted(maps.Keys(v.c.Sysctl)) {
		f := fmt.Sprintf("sysctl %q", k)
		parts, problem := sysctlParts(k)
		if problem != "" {
			v.failf(f, nil, "is not a sysctl name: %s", problem)
			continue
		}
		var (
			need configs.NamespaceType
			what string
		)
		switch {
		case parts[0] == "net":
			need, what = configs.NEWNET, "a network namespace"
		case isIPCSysctl(parts):
			need, what = configs.NEWIPC, "an IPC namespace"
		case len(parts) == 2 && parts[0] == "kernel" && (parts[1] == "hostname" || parts[1] == "domainname"):
			need, what = configs.NEWUTS, "a UTS namespace"
			field, set := "hostname", v.c.Hostname
			if parts[1] == "domainname" {
				field, set = "domainname", v.c.Domainname
			}
			if val := v.c.Sysctl[k]; set != "" && val != set {
				v.failf(f, val, "contradicts %s %q", field, set)
			}
		default:
			v.failf(f, nil, "is not namespaced: setting it in a container would change the host")
			continue
		}
		if !v.owns(need) {
			v.failf(f, nil, "needs %s of the container's own", what)
		}
	}
}

// sysctlParts splits a key written with dots or with slashes. A key with
// slashes keeps the dots of its components, as in
// "net/ipv4/conf/eth0.100/forwarding", so slashes win.
func sysctlParts(k string) ([]string, string) {
	if strings.Contains(k, "..") {
		return nil, `it contains ".."`
	}
	if strings.ContainsFunc(k, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, "it contains a space or a control character"
	}
	sep := "."
	if strings.Contains(k, "/") {
		sep = "/"
	}
	parts := strings.Split(k, sep)
	for _, p := range parts {
		if p == "" || p == "." {
			return nil, `it has an empty or "." component`
		}
	}
	return parts, ""
}

func isIPCSysctl(parts []string) bool {
	if len(parts) > 2 && parts[0] == "fs" && parts[1] == "mqueue" {
		return true
	}
	if len(parts) != 2 || parts[0] != "kernel" {
		return false
	}
	n := parts[1]
	return strings.HasPrefix(n, "msg") || strings.HasPrefix(n, "shm") || n == "sem" || n == "sem_next_id"
}

func (v *checker) netDevices() {
	devs := v.c.NetDevices
	if len(devs) == 0 {
		return
	}
	if !v.owns(configs.NEWNET) {
		v.failf("net_devices", nil, "need a network namespace other than the host's to move into")
	}
	if v.c.RootlessEUID {
		// Moving a device takes CAP_NET_ADMIN in the host's network
		// namespace, which a rootless runtime lacks; runc refuses too.
		v.failf("net_devices", nil, "cannot be moved by a rootless runtime (rootless_euid): it takes CAP_NET_ADMIN on the host")
	}
	// inside maps a name in the container to the device that takes it.
	inside := make(map[string]string, len(devs))
	for _, name := range slices.Sorted(maps.Keys(devs)) {
		if p := ifnameProblem(name); p != "" {
			v.failf("net_devices", name, "is not an interface name: %s", p)
			continue
		}
		if strings.Contains(name, "%") {
			// The kernel names no device so: "%d" asks it for a name.
			v.failf("net_devices", name, "is not an interface name: a %%d template is only for the name in the container")
			continue
		}
		newName := name
		if d := devs[name]; d != nil && d.Name != "" {
			field := fmt.Sprintf("net_devices %q.name", name)
			if p := ifnameProblem(d.Name); p != "" {
				v.failf(field, d.Name, "is not an interface name: %s", p)
				continue
			}
			if p := templateProblem(d.Name); p != "" {
				v.failf(field, d.Name, "is not an interface name: %s", p)
				continue
			}
			newName = d.Name
		}
		if strings.Contains(newName, "%") {
			continue // the kernel picks a free name
		}
		if other, ok := inside[newName]; ok {
			v.failf(fmt.Sprintf("net_devices %q", name), nil, "is named %q in the container, as net_devices %q is", newName, other)
			continue
		}
		inside[newName] = name
	}
}

// templateProblem follows the kernel's __dev_alloc_name: a name with a
// '%' must have exactly one, followed by 'd'.
func templateProblem(s string) string {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return ""
	}
	if !strings.HasPrefix(s[i:], "%d") || strings.Contains(s[i+2:], "%") {
		return "a '%' must be the only one and start a %d template"
	}
	return ""
}

// ifnameProblem follows the kernel's dev_valid_name.
func ifnameProblem(s string) string {
	switch {
	case s == "":
		return "it is empty"
	case len(s) >= unix.IFNAMSIZ:
		return fmt.Sprintf("it is longer than %d bytes", unix.IFNAMSIZ-1)
	case s == "." || s == "..":
		return `it is "." or ".."`
	case strings.ContainsFunc(s, func(r rune) bool { return r == '/' || r == ':' || r <= ' ' || r == 0x7f }):
		return "it contains '/', ':', a space or a control character"
	}
	return ""
}
