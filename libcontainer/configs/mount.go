package configs

import "golang.org/x/sys/unix"

// Mount is a filesystem mounted into the container, in the order listed.
type Mount struct {
	// Source is a host path for binds, else the filesystem's source name.
	Source string `json:"source"`

	// Destination is an absolute path inside the container.
	Destination string `json:"destination"`

	// Device is the filesystem type ("proc", "tmpfs", "bind", ...).
	Device string `json:"device"`

	// Flags are unix.MS_* flags to set.
	Flags int `json:"flags"`

	// ClearedFlags are MS_* flags the config asked to clear ("rw",
	// "suid", ...). A bind mount keeps its source's flags unless a flag
	// is set or cleared explicitly.
	ClearedFlags int `json:"cleared_flags,omitempty"`

	// PropagationFlags are applied after the mount, in order
	// (unix.MS_PRIVATE, MS_SLAVE, MS_SHARED, MS_UNBINDABLE, with MS_REC).
	PropagationFlags []int `json:"propagation_flags,omitempty"`

	// Data is the filesystem-specific option string.
	Data string `json:"data,omitempty"`

	// Relabel is "z" or "Z" for SELinux relabelling of a bind source.
	Relabel string `json:"relabel,omitempty"`

	// RecAttr are mount attributes applied to the whole mount tree
	// with mount_setattr(2) ("rro", "rnosuid", ...).
	RecAttr *unix.MountAttr `json:"rec_attr,omitempty"`

	// IDMapping makes the bind mount idmapped.
	IDMapping *MountIDMapping `json:"id_mapping,omitempty"`

	// TmpCopyUp fills a new tmpfs with what is at its mount point in the
	// rootfs (the runtime spec's "tmpcopyup" option).
	TmpCopyUp bool `json:"tmpcopyup,omitempty"`
}

// MountIDMapping is the id mapping of an idmapped bind mount. Without
// mappings, the mount is mapped as the user namespace the container
// joins (Namespaces' NEWUSER path).
type MountIDMapping struct {
	// Recursive applies the mapping to every mount of the tree.
	Recursive   bool    `json:"recursive,omitempty"`
	UIDMappings []IDMap `json:"uid_mappings,omitempty"`
	GIDMappings []IDMap `json:"gid_mappings,omitempty"`
}

// IsBind reports whether the mount is a bind mount.
func (m *Mount) IsBind() bool {
	return m.Flags&unix.MS_BIND != 0 || m.Device == "bind"
}

// IsIDMapped reports whether the mount is an idmapped bind mount.
func (m *Mount) IsIDMapped() bool {
	return m.IDMapping != nil
}
