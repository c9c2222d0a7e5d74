package libcontainer

import (
	"fmt"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// CriuOpts are the options of Checkpoint and Restore, as runc offers
// them. Only ImagesDirectory is required.
type CriuOpts struct {
	// ImagesDirectory is where the checkpoint's images are written to
	// (created, mode 0700, if missing) or read from.
	ImagesDirectory string

	// WorkDirectory holds criu's logs (dump.log, restore.log, ...);
	// ImagesDirectory when empty.
	WorkDirectory string

	// ParentImage is the images directory of a previous pre-dump, for
	// an iterative migration: absolute, or relative to ImagesDirectory.
	ParentImage string

	// LeaveRunning keeps the container running after its checkpoint;
	// otherwise criu stops its processes once they are saved.
	LeaveRunning bool

	// TcpEstablished saves and restores established TCP connections.
	TcpEstablished bool

	// TcpSkipInFlight skips TCP connections still being set up.
	TcpSkipInFlight bool

	// LinkRemap lets criu link unlinked but open files back.
	LinkRemap bool

	// ExternalUnixConnections allows unix sockets connected to peers
	// outside the container.
	ExternalUnixConnections bool

	// ShellJob allows a process tree whose session or terminal is
	// outside the container (a job started from a shell).
	ShellJob bool

	// FileLocks saves and restores file locks.
	FileLocks bool

	// PreDump saves the container's memory only and leaves it running:
	// the first steps of an iterative migration. It needs the kernel's
	// soft-dirty page tracking.
	PreDump bool

	// PageServer, when its Address is set, sends the memory pages to a
	// criu page server instead of the images directory.
	PageServer CriuPageServerInfo

	// LazyPages leaves the memory pages where they are, to be fetched
	// when the restored processes touch them (userfaultfd).
	LazyPages bool

	// StatusFd, when > 0, is an fd of this process that gets a single
	// '\0' once a lazy-pages checkpoint is ready to be restored.
	StatusFd int

	// ManageCgroupsMode is how criu saves and restores the cgroups'
	// properties; CgroupsModeDefault is "soft".
	ManageCgroupsMode CgroupsMode

	// EmptyNs are namespaces criu creates on restore without restoring
	// their contents: a network namespace the caller sets up itself,
	// say.
	EmptyNs []configs.NamespaceType

	// AutoDedup frees the pages of the parent images that the new
	// checkpoint overwrites.
	AutoDedup bool

	// CriuPath is the criu binary, "criu" in $PATH when empty.
	CriuPath string

	// LsmProfile and LsmMountContext replace, on restore, the LSM
	// profile and mount context recorded in the checkpoint.
	LsmProfile      string
	LsmMountContext string
}

// CriuPageServerInfo is the address of a criu page server.
type CriuPageServerInfo struct {
	Address string
	Port    int32
}

// CgroupsMode is what criu does with the properties (limits) of the
// container's cgroups.
type CgroupsMode int

const (
	// CgroupsModeDefault is criu's default, "soft".
	CgroupsModeDefault CgroupsMode = iota
	// CgroupsModeSoft restores properties into cgroups criu creates,
	// and leaves existing ones as they are.
	CgroupsModeSoft
	// CgroupsModeFull restores every property, into existing cgroups
	// too.
	CgroupsModeFull
	// CgroupsModeStrict is full, and fails where a cgroup is missing.
	CgroupsModeStrict
	// CgroupsModeIgnore leaves cgroups alone: the restored processes
	// stay in the cgroup criu runs in, which Restore makes the
	// container's.
	CgroupsModeIgnore
)

// String is the mode as the command line spells it.
func (m CgroupsMode) String() string {
	switch m {
	case CgroupsModeSoft:
		return "soft"
	case CgroupsModeFull:
		return "full"
	case CgroupsModeStrict:
		return "strict"
	case CgroupsModeIgnore:
		return "ignore"
	}
	return "default"
}

// ParseCgroupsMode reads --manage-cgroups-mode: soft, full, strict or
// ignore; "" is the default.
func ParseCgroupsMode(s string) (CgroupsMode, error) {
	switch s {
	case "":
		return CgroupsModeDefault, nil
	case "soft":
		return CgroupsModeSoft, nil
	case "full":
		return CgroupsModeFull, nil
	case "strict":
		return CgroupsModeStrict, nil
	case "ignore":
		return CgroupsModeIgnore, nil
	}
	return CgroupsModeDefault, fmt.Errorf("invalid manage-cgroups-mode %q (want soft, full, strict or ignore)", s)
}
