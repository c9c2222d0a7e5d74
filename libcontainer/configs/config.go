// Package configs describes a container: pure data, JSON-stable, with no
// kernel calls. A zero value of any field means "not set": the runtime then
// leaves that part of the process or the kernel as it finds it.
//
// Validate a Config with the validate subpackage before handing it to
// libcontainer.Create; Create validates it again.
package configs

import (
	"github.com/opencontainers/cgroups"
	devices "github.com/opencontainers/cgroups/devices/config"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// Cgroup is the container's control group, as the cgroups library models it.
type Cgroup = cgroups.Cgroup

// Resources are the limits applied to the container's cgroup.
type Resources = cgroups.Resources

// Config is everything the runtime needs to build a container.
type Config struct {
	// Rootfs is the host path of the container's root filesystem.
	Rootfs string `json:"rootfs"`

	// Readonlyfs remounts the root filesystem read-only after setup.
	Readonlyfs bool `json:"readonlyfs,omitempty"`

	// NoPivotRoot moves the rootfs onto / and chroots instead of
	// pivot_root; needed when the rootfs sits on a ramfs.
	NoPivotRoot bool `json:"no_pivot_root,omitempty"`

	// RootPropagation is the propagation of / in the container's mount
	// namespace (unix.MS_PRIVATE, MS_SLAVE, MS_SHARED, optionally with
	// MS_REC). Zero means rprivate.
	RootPropagation int `json:"root_propagation,omitempty"`

	// Mounts are mounted in order, relative to the rootfs.
	Mounts []*Mount `json:"mounts,omitempty"`

	// Devices are created (or bind-mounted from the host in a user
	// namespace) under /dev.
	Devices []*devices.Device `json:"devices,omitempty"`

	// MountLabel is the SELinux label of the container's mounts.
	MountLabel string `json:"mount_label,omitempty"`

	// Hostname and Domainname are set in a new UTS namespace.
	Hostname   string `json:"hostname,omitempty"`
	Domainname string `json:"domainname,omitempty"`

	// Namespaces are created, or joined when they carry a path.
	Namespaces Namespaces `json:"namespaces,omitempty"`

	// UIDMappings and GIDMappings map ids of a new user namespace.
	UIDMappings []IDMap `json:"uid_mappings,omitempty"`
	GIDMappings []IDMap `json:"gid_mappings,omitempty"`

	// Capabilities of the container's processes. Nil keeps the caller's.
	Capabilities *Capabilities `json:"capabilities,omitempty"`

	// NoNewPrivileges sets PR_SET_NO_NEW_PRIVS before exec.
	NoNewPrivileges bool `json:"no_new_privileges,omitempty"`

	// Networks to configure inside a new network namespace.
	Networks []*Network `json:"networks,omitempty"`

	// Cgroups is the container's control group and its resources.
	Cgroups *Cgroup `json:"cgroups,omitempty"`

	// AppArmorProfile is the profile the process execs into.
	AppArmorProfile string `json:"apparmor_profile,omitempty"`

	// ProcessLabel is the SELinux label the process execs into.
	ProcessLabel string `json:"process_label,omitempty"`

	// Rlimits set on the container's processes.
	Rlimits []Rlimit `json:"rlimits,omitempty"`

	// OomScoreAdj is written to /proc/<pid>/oom_score_adj when set.
	OomScoreAdj *int `json:"oom_score_adj,omitempty"`

	// MaskPaths are hidden: files behind /dev/null, directories behind an
	// empty read-only tmpfs.
	MaskPaths []string `json:"mask_paths,omitempty"`

	// ReadonlyPaths are bind-remounted read-only.
	ReadonlyPaths []string `json:"readonly_paths,omitempty"`

	// Sysctl are written under /proc/sys inside the container's
	// namespaces; keys use dots ("net.ipv4.ip_forward").
	Sysctl map[string]string `json:"sysctl,omitempty"`

	// Seccomp is the syscall filter, loaded as the last step before exec.
	Seccomp *Seccomp `json:"seccomp,omitempty"`

	// Hooks run at the lifecycle points the OCI runtime spec names. They
	// do not travel to the container's init with the rest (posenc:"-"):
	// init gets the command hooks it runs on their own.
	Hooks Hooks `json:"hooks,omitempty" posenc:"-"`

	// Version is the OCI runtime-spec version the config came from.
	Version string `json:"version,omitempty"`

	// Labels are "key=value" strings kept with the container (the CLI
	// stores "bundle=<path>" here, and the OCI annotations).
	Labels []string `json:"labels,omitempty"`

	// NoNewKeyring keeps the caller's session keyring instead of giving
	// the container a new one.
	NoNewKeyring bool `json:"no_new_keyring,omitempty"`

	// ParentDeathSignal is sent to init when the runtime that created it
	// dies before init execs.
	ParentDeathSignal int `json:"parent_death_signal,omitempty"`

	// Umask of the container's processes; nil means 0022.
	Umask *uint32 `json:"umask,omitempty"`

	// Personality sets the execution domain (linux32 and friends).
	Personality *Personality `json:"personality,omitempty"`

	// Scheduler sets the scheduling policy of the container's processes.
	Scheduler *Scheduler `json:"scheduler,omitempty"`

	// IOPriority sets the I/O class and priority of the container's
	// processes.
	IOPriority *IOPriority `json:"io_priority,omitempty"`

	// ExecCPUAffinity pins the processes exec'd in the container while
	// they enter it and once they run there; not init, as the runtime
	// spec says.
	ExecCPUAffinity *CPUAffinity `json:"exec_cpu_affinity,omitempty"`

	// MemoryPolicy is the NUMA memory policy of the container's
	// processes, init and exec'd ones.
	MemoryPolicy *MemoryPolicy `json:"memory_policy,omitempty"`

	// TimeOffsets for a new time namespace, keyed "monotonic"/"boottime".
	TimeOffsets map[string]specs.LinuxTimeOffset `json:"time_offsets,omitempty"`

	// IntelRdt is the resctrl group of the container.
	IntelRdt *IntelRdt `json:"intel_rdt,omitempty"`

	// NetDevices are host network devices moved into the container's
	// network namespace, keyed by host name.
	NetDevices map[string]*NetDevice `json:"net_devices,omitempty"`

	// RootlessEUID is set when the runtime runs without root on the host.
	RootlessEUID bool `json:"rootless_euid,omitempty"`

	// RootlessCgroups is set when the cgroup may be unwritable to us.
	RootlessCgroups bool `json:"rootless_cgroups,omitempty"`
}

// IDMap maps a range of ids of a user namespace onto the host.
type IDMap struct {
	ContainerID int64 `json:"container_id"`
	HostID      int64 `json:"host_id"`
	Size        int64 `json:"size"`
}

// Rlimit is a resource limit of the container's processes.
type Rlimit struct {
	// Type is the resource, a unix.RLIMIT_* value.
	Type int    `json:"type"`
	Hard uint64 `json:"hard"`
	Soft uint64 `json:"soft"`
}

// Capabilities are the five capability sets, by name ("CAP_KILL").
type Capabilities struct {
	Bounding    []string `json:"Bounding,omitempty"`
	Effective   []string `json:"Effective,omitempty"`
	Inheritable []string `json:"Inheritable,omitempty"`
	Permitted   []string `json:"Permitted,omitempty"`
	Ambient     []string `json:"Ambient,omitempty"`
}

// Network is an interface to configure in a new network namespace. Only
// the "loopback" type is supported: it brings lo up.
type Network struct {
	Type    string `json:"type"`
	Name    string `json:"name,omitempty"`
	Address string `json:"address,omitempty"`
	Gateway string `json:"gateway,omitempty"`
	Mtu     int    `json:"mtu,omitempty"`
}

// Personality is the execution domain of personality(2).
type Personality struct {
	// Domain is "LINUX" or "LINUX32".
	Domain string `json:"domain"`
	// Flags are not supported by the kernel's personality names yet and
	// must be empty.
	Flags []string `json:"flags,omitempty"`
}

// Scheduler is a sched_setattr(2) request.
type Scheduler struct {
	Policy   string   `json:"policy"`
	Nice     int32    `json:"nice,omitempty"`
	Priority int32    `json:"priority,omitempty"`
	Flags    []string `json:"flags,omitempty"`
	Runtime  uint64   `json:"runtime,omitempty"`
	Deadline uint64   `json:"deadline,omitempty"`
	Period   uint64   `json:"period,omitempty"`
}

// IOPriority is an ioprio_set(2) request.
type IOPriority struct {
	// Class is IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE.
	Class    string `json:"class"`
	Priority int    `json:"priority"`
}

// CPUAffinity pins a process: Initial while it joins the container,
// Final once it runs there. Both are cpu lists ("0-3,7").
type CPUAffinity struct {
	Initial string `json:"initial,omitempty"`
	Final   string `json:"final,omitempty"`
}

// MemoryPolicy is a set_mempolicy(2) request.
type MemoryPolicy struct {
	// Mode is MPOL_DEFAULT, MPOL_BIND, MPOL_INTERLEAVE,
	// MPOL_WEIGHTED_INTERLEAVE, MPOL_PREFERRED, MPOL_PREFERRED_MANY or
	// MPOL_LOCAL.
	Mode string `json:"mode"`
	// Nodes is a list of memory nodes ("0-3,7"); MPOL_DEFAULT and
	// MPOL_LOCAL take none, MPOL_PREFERRED none or some, the others
	// some.
	Nodes string `json:"nodes,omitempty"`
	// Flags are MPOL_F_STATIC_NODES, MPOL_F_RELATIVE_NODES and
	// MPOL_F_NUMA_BALANCING.
	Flags []string `json:"flags,omitempty"`
}

// IntelRdt is a resctrl group request.
type IntelRdt struct {
	ClosID           string   `json:"closID,omitempty"`
	L3CacheSchema    string   `json:"l3_cache_schema,omitempty"`
	MemBwSchema      string   `json:"memBwSchema,omitempty"`
	Schemata         []string `json:"schemata,omitempty"`
	EnableMonitoring bool     `json:"enableMonitoring,omitempty"`
}

// NetDevice is a host network device moved into the container.
type NetDevice struct {
	// Name inside the container; empty keeps the host name.
	Name string `json:"name,omitempty"`
}
