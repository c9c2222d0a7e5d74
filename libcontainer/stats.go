package libcontainer

import (
	"github.com/opencontainers/cgroups"

	"github.com/corral-oci/corral/libcontainer/intelrdt"
)

// Stats are a container's resource usage.
type Stats struct {
	// CgroupStats are the figures of the container's cgroup.
	CgroupStats *cgroups.Stats `json:"cgroup_stats,omitempty"`
	// Interfaces are the counters of the network interfaces in the
	// container's network namespace.
	Interfaces []*NetworkInterface `json:"interfaces,omitempty"`
	// IntelRdt are the figures of the container's resctrl groups.
	IntelRdt *intelrdt.Stats `json:"intel_rdt,omitempty"`
}

// NetworkInterface are the counters of one network interface.
type NetworkInterface struct {
	Name      string `json:"name"`
	RxBytes   uint64 `json:"rx_bytes"`
	RxPackets uint64 `json:"rx_packets"`
	RxErrors  uint64 `json:"rx_errors"`
	RxDropped uint64 `json:"rx_dropped"`
	TxBytes   uint64 `json:"tx_bytes"`
	TxPackets uint64 `json:"tx_packets"`
	TxErrors  uint64 `json:"tx_errors"`
	TxDropped uint64 `json:"tx_dropped"`
}

// PressureLevel is a memory pressure level of cgroup v1's
// memory.pressure_level, or the matching PSI threshold on v2.
type PressureLevel uint

// The memory pressure levels.
const (
	LowPressure PressureLevel = iota
	MediumPressure
	CriticalPressure
)
