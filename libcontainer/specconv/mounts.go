package specconv

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// flagOption is a mount(8) option that sets or clears one MS_* flag.
type flagOption struct {
	clear bool
	flag  int
}

// mountFlags are the filesystem-independent options of mount(8). The
// "clearing" ones (rw, suid, ...) are remembered in ClearedFlags: a bind
// mount keeps the flags of its source unless the config names them, so
// the runtime must know which ones the user asked to turn off.
var mountFlags = map[string]flagOption{
	"ro":            {flag: unix.MS_RDONLY},
	"rw":            {clear: true, flag: unix.MS_RDONLY},
	"nosuid":        {flag: unix.MS_NOSUID},
	"suid":          {clear: true, flag: unix.MS_NOSUID},
	"nodev":         {flag: unix.MS_NODEV},
	"dev":           {clear: true, flag: unix.MS_NODEV},
	"noexec":        {flag: unix.MS_NOEXEC},
	"exec":          {clear: true, flag: unix.MS_NOEXEC},
	"sync":          {flag: unix.MS_SYNCHRONOUS},
	"async":         {clear: true, flag: unix.MS_SYNCHRONOUS},
	"dirsync":       {flag: unix.MS_DIRSYNC},
	"remount":       {flag: unix.MS_REMOUNT},
	"mand":          {flag: unix.MS_MANDLOCK},
	"nomand":        {clear: true, flag: unix.MS_MANDLOCK},
	"noatime":       {flag: unix.MS_NOATIME},
	"atime":         {clear: true, flag: unix.MS_NOATIME},
	"nodiratime":    {flag: unix.MS_NODIRATIME},
	"diratime":      {clear: true, flag: unix.MS_NODIRATIME},
	"relatime":      {flag: unix.MS_RELATIME},
	"norelatime":    {clear: true, flag: unix.MS_RELATIME},
	"strictatime":   {flag: unix.MS_STRICTATIME},
	"nostrictatime": {clear: true, flag: unix.MS_STRICTATIME},
	"silent":        {flag: unix.MS_SILENT},
	"loud":          {clear: true, flag: unix.MS_SILENT},
	"lazytime":      {flag: unix.MS_LAZYTIME},
	"nolazytime":    {clear: true, flag: unix.MS_LAZYTIME},
	"iversion":      {flag: unix.MS_I_VERSION},
	"noiversion":    {clear: true, flag: unix.MS_I_VERSION},
	"nosymfollow":   {flag: unix.MS_NOSYMFOLLOW},
	"symfollow":     {clear: true, flag: unix.MS_NOSYMFOLLOW},
	"bind":          {flag: unix.MS_BIND},
	"rbind":         {flag: unix.MS_BIND | unix.MS_REC},
}

// propagationFlags are the shared-subtree options; they cannot be combined
// with a mount(2) that creates a mount, so the runtime applies them
// afterwards, in order.
var propagationFlags = map[string]int{
	"private":     unix.MS_PRIVATE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"slave":       unix.MS_SLAVE,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"shared":      unix.MS_SHARED,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"unbindable":  unix.MS_UNBINDABLE,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// attrOption is a recursive option, applied to the whole mount tree with
// mount_setattr(2) and AT_RECURSIVE: mount(2) flags only reach the top
// mount of an rbind.
type attrOption struct {
	clear bool
	attr  uint64
	// atime marks the access-time options. In mount_setattr(2) those are
	// an enum inside MOUNT_ATTR__ATIME, not bits: the whole field is
	// cleared and one value set, so the last atime option wins.
	atime bool
}

var recursiveAttrs = map[string]attrOption{
	"rro":          {attr: unix.MOUNT_ATTR_RDONLY},
	"rrw":          {clear: true, attr: unix.MOUNT_ATTR_RDONLY},
	"rnosuid":      {attr: unix.MOUNT_ATTR_NOSUID},
	"rsuid":        {clear: true, attr: unix.MOUNT_ATTR_NOSUID},
	"rnodev":       {attr: unix.MOUNT_ATTR_NODEV},
	"rdev":         {clear: true, attr: unix.MOUNT_ATTR_NODEV},
	"rnoexec":      {attr: unix.MOUNT_ATTR_NOEXEC},
	"rexec":        {clear: true, attr: unix.MOUNT_ATTR_NOEXEC},
	"rnodiratime":  {attr: unix.MOUNT_ATTR_NODIRATIME},
	"rdiratime":    {clear: true, attr: unix.MOUNT_ATTR_NODIRATIME},
	"rnosymfollow": {attr: unix.MOUNT_ATTR_NOSYMFOLLOW},
	"rsymfollow":   {clear: true, attr: unix.MOUNT_ATTR_NOSYMFOLLOW},
	"rrelatime":    {atime: true, attr: unix.MOUNT_ATTR_RELATIME},
	"rnoatime":     {atime: true, attr: unix.MOUNT_ATTR_NOATIME},
	"rstrictatime": {atime: true, attr: unix.MOUNT_ATTR_STRICTATIME},
	// "atime" only undoes noatime, which leaves the kernel's default,
	// relatime; likewise "nostrictatime". "norelatime" asks for atime
	// updates on every access, which is strictatime.
	"ratime":         {atime: true, attr: unix.MOUNT_ATTR_RELATIME},
	"rnostrictatime": {atime: true, attr: unix.MOUNT_ATTR_RELATIME},
	"rnorelatime":    {atime: true, attr: unix.MOUNT_ATTR_STRICTATIME},
}

func (o attrOption) apply(a *unix.MountAttr) {
	switch {
	case o.atime:
		a.Attr_clr |= unix.MOUNT_ATTR__ATIME
		a.Attr_set = a.Attr_set&^unix.MOUNT_ATTR__ATIME | o.attr
	case o.clear:
		a.Attr_clr |= o.attr
		a.Attr_set &^= o.attr
	default:
		a.Attr_set |= o.attr
		a.Attr_clr &^= o.attr
	}
}

func convertMounts(c *configs.Config, mounts []specs.Mount) error {
	if len(mounts) == 0 {
		return nil
	}
	c.Mounts = make([]*configs.Mount, 0, len(mounts))
	for i := range mounts {
		m, err := convertMount(c, fmt.Sprintf("mounts[%d]", i), &mounts[i])
		if err != nil {
			return err
		}
		c.Mounts = append(c.Mounts, m)
	}
	return nil
}

// convertMount parses one mount's options. Options are applied in order,
// so "ro,rw" is rw as with mount(8); unknown options are the
// filesystem's, passed on as data.
func convertMount(c *configs.Config, field string, m *specs.Mount) (*configs.Mount, error) {
	if m.Destination == "" {
		return nil, fieldError(field+".destination", "empty")
	}
	out := &configs.Mount{
		Source: m.Source,
		// The spec still allows relative destinations, for old
		// configs, and reads them relative to "/".
		Destination: m.Destination,
		Device:      m.Type,
	}
	if !filepath.IsAbs(out.Destination) {
		out.Destination = "/" + out.Destination
	}

	var (
		data           []string
		idmap, ridmap  bool
		attr           unix.MountAttr
		hasRecursive   bool
		hasPropagation bool
	)
	for j, o := range m.Options {
		if f, ok := mountFlags[o]; ok {
			if f.clear {
				out.Flags &^= f.flag
				out.ClearedFlags |= f.flag
			} else {
				out.Flags |= f.flag
				out.ClearedFlags &^= f.flag
			}
			continue
		}
		if p, ok := propagationFlags[o]; ok {
			out.PropagationFlags = append(out.PropagationFlags, p)
			hasPropagation = true
			continue
		}
		if a, ok := recursiveAttrs[o]; ok {
			a.apply(&attr)
			hasRecursive = true
			continue
		}
		switch o {
		case "idmap":
			idmap = true
		case "ridmap":
			idmap, ridmap = true, true
		case "defaults":
			// mount(8)'s "defaults" is rw,suid,dev,exec,auto,nouser,async:
			// the flags a fresh mount has anyway.
		case "tmpcopyup":
			out.TmpCopyUp = true
		case "z", "Z":
			out.Relabel = o
		case "":
			return nil, fieldError(fmt.Sprintf("%s.options[%d]", field, j), "empty")
		default:
			data = append(data, o)
		}
	}
	out.Data = strings.Join(data, ",")
	if hasRecursive {
		out.RecAttr = &attr
	}

	bind := out.Flags&unix.MS_BIND != 0 || m.Type == "bind"
	switch {
	case bind:
		out.Device = "bind"
		out.Flags |= unix.MS_BIND
		if m.Source == "" {
			return nil, fieldError(field+".source", "empty, but a bind mount needs one")
		}
		// Bind sources are relative to the bundle, our working directory.
		src, err := filepath.Abs(m.Source)
		if err != nil {
			return nil, fieldError(field+".source", "%q: %v", m.Source, err)
		}
		out.Source = src
	case m.Type == "" && out.Flags&unix.MS_REMOUNT == 0 && !hasPropagation:
		// Only a remount or a propagation change works without a
		// filesystem type; anything else fails in mount(2) with EINVAL.
		return nil, fieldError(field+".type", "empty, and the mount is not a bind mount")
	}

	idm, err := mountIDMapping(c, field, m, idmap, ridmap)
	if err != nil {
		return nil, err
	}
	if idm != nil && !bind {
		return nil, fieldError(field+".options", "an idmapped mount must be a bind mount")
	}
	out.IDMapping = idm
	if out.TmpCopyUp && out.Device != "tmpfs" {
		return nil, fieldError(field+".options", "tmpcopyup is for a tmpfs, not a %s mount", out.Device)
	}
	return out, nil
}

// mountIDMapping returns the id mapping of an idmapped mount, or nil. The
// spec makes a mount idmapped by its mappings or by an idmap/ridmap
// option; the option alone borrows the container's user namespace maps.
func mountIDMapping(c *configs.Config, field string, m *specs.Mount, idmap, recursive bool) (*configs.MountIDMapping, error) {
	hasUID, hasGID := len(m.UIDMappings) > 0, len(m.GIDMappings) > 0
	if !idmap && !hasUID && !hasGID {
		return nil, nil
	}
	if hasUID && !hasGID {
		return nil, fieldError(field+".gidMappings", "empty, but uidMappings are set")
	}
	if hasGID && !hasUID {
		return nil, fieldError(field+".uidMappings", "empty, but gidMappings are set")
	}
	if !hasUID {
		if c.Namespaces.PathOf(configs.NEWUSER) != "" {
			// The user namespace joined: its mappings are the kernel's
			// to know, and the mount takes that namespace itself.
			return &configs.MountIDMapping{Recursive: recursive}, nil
		}
		if len(c.UIDMappings) == 0 || len(c.GIDMappings) == 0 {
			return nil, fieldError(field+".options", "idmap without uidMappings and gidMappings needs the container's user namespace mappings")
		}
		return &configs.MountIDMapping{
			Recursive:   recursive,
			UIDMappings: slices.Clone(c.UIDMappings),
			GIDMappings: slices.Clone(c.GIDMappings),
		}, nil
	}
	uids, err := convertIDMaps(field+".uidMappings", m.UIDMappings)
	if err != nil {
		return nil, err
	}
	gids, err := convertIDMaps(field+".gidMappings", m.GIDMappings)
	if err != nil {
		return nil, err
	}
	return &configs.MountIDMapping{Recursive: recursive, UIDMappings: uids, GIDMappings: gids}, nil
}

// MountOptions lists the mount options the conversion understands itself,
// sorted; any other option is handed to the filesystem as data. The
// features command reports them.
func MountOptions() []string {
	opts := []string{"idmap", "ridmap", "tmpcopyup"}
	for name := range mountFlags {
		opts = append(opts, name)
	}
	for name := range propagationFlags {
		opts = append(opts, name)
	}
	for name := range recursiveAttrs {
		opts = append(opts, name)
	}
	sort.Strings(opts)
	return opts
}
