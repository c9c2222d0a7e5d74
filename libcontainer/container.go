package libcontainer

import (
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// Status is the state of a container, as the OCI runtime spec defines it.
type Status int

const (
	// Stopped: "the container process has exited", or was never started.
	Stopped Status = iota
	// Created: "the container has been created but the user-specified
	// program has not yet been executed".
	Created
	// Running: "the container is running the user-specified program".
	Running
	// Paused: every process of the container is frozen.
	Paused
)

// String is the status as the OCI runtime spec and runc spell it.
func (s Status) String() string {
	switch s {
	case Created:
		return string(specs.StateCreated)
	case Running:
		return string(specs.StateRunning)
	case Paused:
		return "paused"
	default:
		return string(specs.StateStopped)
	}
}

// State is what the runtime persists about a container in
// <root>/<id>/state.json.
type State struct {
	// ID of the container.
	ID string `json:"id"`

	// InitProcessPid is the host pid of the container's init, 0 before
	// it starts.
	InitProcessPid int `json:"init_process_pid"`

	// InitProcessStartTime is the start time of init in clock ticks since
	// boot (field 22 of /proc/<pid>/stat); with the pid it tells init from
	// an unrelated process that reused its pid.
	InitProcessStartTime uint64 `json:"init_process_start"`

	// Created is when the container was created.
	Created time.Time `json:"created"`

	// Config is the container's configuration.
	Config configs.Config `json:"config"`

	// Rootless is true when the container runs without root on the host.
	Rootless bool `json:"rootless"`

	// CgroupPaths maps controllers to the container's cgroup directories
	// ("" for the unified hierarchy).
	CgroupPaths map[string]string `json:"cgroup_paths"`

	// NamespacePaths are the namespaces of init, as /proc/<pid>/ns paths.
	NamespacePaths map[configs.NamespaceType]string `json:"namespace_paths"`

	// ExternalDescriptors are what init's stdio pointed at when it
	// started, for checkpoint and restore.
	ExternalDescriptors []string `json:"external_descriptors,omitempty"`

	// IntelRdtPath is the container's resctrl group.
	IntelRdtPath string `json:"intel_rdt_path,omitempty"`
}
