package main

import (
	"github.com/opencontainers/cgroups"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/intelrdt"
)

// The types below are the JSON of `events`, with the field names runc
// prints and containerd's go-runc decodes; they are kept apart from the
// cgroups library's own Stats, whose JSON names differ and may change.

// event is one line of `events`.
type event struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data any    `json:"data,omitempty"`
}

// stats is the data of a "stats" event.
type stats struct {
	CPU               cpu                 `json:"cpu"`
	CPUSet            cpuset              `json:"cpuset"`
	Memory            memory              `json:"memory"`
	Pids              pids                `json:"pids"`
	Blkio             blkio               `json:"blkio"`
	Hugetlb           map[string]hugetlb  `json:"hugetlb"`
	IntelRdt          intelRdt            `json:"intel_rdt"`
	NetworkInterfaces []*networkInterface `json:"network_interfaces"`
}

type hugetlb struct {
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

type blkioEntry struct {
	Major uint64 `json:"major,omitempty"`
	Minor uint64 `json:"minor,omitempty"`
	Op    string `json:"op,omitempty"`
	Value uint64 `json:"value,omitempty"`
}

type blkio struct {
	IoServiceBytesRecursive []blkioEntry      `json:"ioServiceBytesRecursive,omitempty"`
	IoServicedRecursive     []blkioEntry      `json:"ioServicedRecursive,omitempty"`
	IoQueuedRecursive       []blkioEntry      `json:"ioQueueRecursive,omitempty"`
	IoServiceTimeRecursive  []blkioEntry      `json:"ioServiceTimeRecursive,omitempty"`
	IoWaitTimeRecursive     []blkioEntry      `json:"ioWaitTimeRecursive,omitempty"`
	IoMergedRecursive       []blkioEntry      `json:"ioMergedRecursive,omitempty"`
	IoTimeRecursive         []blkioEntry      `json:"ioTimeRecursive,omitempty"`
	SectorsRecursive        []blkioEntry      `json:"sectorsRecursive,omitempty"`
	PSI                     *cgroups.PSIStats `json:"psi,omitempty"`
}

type pids struct {
	Current uint64 `json:"current,omitempty"`
	Limit   uint64 `json:"limit,omitempty"`
}

type throttling struct {
	Periods          uint64 `json:"periods,omitempty"`
	ThrottledPeriods uint64 `json:"throttledPeriods,omitempty"`
	ThrottledTime    uint64 `json:"throttledTime,omitempty"`
}

// cpuUsage is in nanoseconds.
type cpuUsage struct {
	Total        uint64   `json:"total,omitempty"`
	Percpu       []uint64 `json:"percpu,omitempty"`
	PercpuKernel []uint64 `json:"percpu_kernel,omitempty"`
	PercpuUser   []uint64 `json:"percpu_user,omitempty"`
	Kernel       uint64   `json:"kernel"`
	User         uint64   `json:"user"`
}

type cpu struct {
	Usage      cpuUsage          `json:"usage,omitempty"`
	Throttling throttling        `json:"throttling,omitempty"`
	PSI        *cgroups.PSIStats `json:"psi,omitempty"`
}

type cpuset struct {
	CPUs                  []uint16 `json:"cpus,omitempty"`
	CPUExclusive          uint64   `json:"cpu_exclusive"`
	Mems                  []uint16 `json:"mems,omitempty"`
	MemHardwall           uint64   `json:"mem_hardwall"`
	MemExclusive          uint64   `json:"mem_exclusive"`
	MemoryMigrate         uint64   `json:"memory_migrate"`
	MemorySpreadPage      uint64   `json:"memory_spread_page"`
	MemorySpreadSlab      uint64   `json:"memory_spread_slab"`
	MemoryPressure        uint64   `json:"memory_pressure"`
	SchedLoadBalance      uint64   `json:"sched_load_balance"`
	SchedRelaxDomainLevel int64    `json:"sched_relax_domain_level"`
}

type memoryEntry struct {
	Limit   uint64 `json:"limit"`
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

type memory struct {
	Cache     uint64            `json:"cache,omitempty"`
	Usage     memoryEntry       `json:"usage,omitempty"`
	Swap      memoryEntry       `json:"swap,omitempty"`
	Kernel    memoryEntry       `json:"kernel,omitempty"`
	KernelTCP memoryEntry       `json:"kernelTCP,omitempty"`
	Raw       map[string]uint64 `json:"raw,omitempty"`
	PSI       *cgroups.PSIStats `json:"psi,omitempty"`
}

// intelRdt are the resctrl figures, under runc's names. runc's
// l3_cache_info and mem_bw_info (the info directory's limits) are not
// reported.
type intelRdt struct {
	L3CacheSchemaRoot string      `json:"l3_cache_schema_root,omitempty"`
	L3CacheSchema     string      `json:"l3_cache_schema,omitempty"`
	MemBwSchemaRoot   string      `json:"mem_bw_schema_root,omitempty"`
	MemBwSchema       string      `json:"mem_bw_schema,omitempty"`
	MBMStats          *[]mbmStats `json:"mbm_stats,omitempty"`
	CMTStats          *[]cmtStats `json:"cmt_stats,omitempty"`
}

// mbmStats are the memory bandwidth counters of one L3 domain.
type mbmStats struct {
	MBMTotalBytes uint64 `json:"mbm_total_bytes"`
	MBMLocalBytes uint64 `json:"mbm_local_bytes"`
}

// cmtStats is the cache occupancy of one L3 domain.
type cmtStats struct {
	LLCOccupancy uint64 `json:"llc_occupancy"`
}

// convertIntelRdt maps the library's resctrl figures onto the event's.
func convertIntelRdt(s *intelrdt.Stats) intelRdt {
	if s == nil {
		return intelRdt{}
	}
	out := intelRdt{
		L3CacheSchemaRoot: s.L3CacheSchemaRoot, L3CacheSchema: s.L3CacheSchema,
		MemBwSchemaRoot: s.MemBwSchemaRoot, MemBwSchema: s.MemBwSchema,
	}
	if s.MBM != nil {
		mbm := make([]mbmStats, 0, len(s.MBM))
		for _, m := range s.MBM {
			mbm = append(mbm, mbmStats{MBMTotalBytes: m.TotalBytes, MBMLocalBytes: m.LocalBytes})
		}
		out.MBMStats = &mbm
	}
	if s.CMT != nil {
		cmt := make([]cmtStats, 0, len(s.CMT))
		for _, c := range s.CMT {
			cmt = append(cmt, cmtStats{LLCOccupancy: c.LLCOccupancy})
		}
		out.CMTStats = &cmt
	}
	return out
}

// networkInterface has no JSON tags: runc prints the Go field names.
type networkInterface struct {
	Name      string
	RxBytes   uint64
	RxPackets uint64
	RxErrors  uint64
	RxDropped uint64
	TxBytes   uint64
	TxPackets uint64
	TxErrors  uint64
	TxDropped uint64
}

// convertStats maps the library's figures onto the event's.
func convertStats(s *libcontainer.Stats) *stats {
	out := &stats{Hugetlb: make(map[string]hugetlb), IntelRdt: convertIntelRdt(s.IntelRdt)}
	for _, i := range s.Interfaces {
		if i == nil {
			continue
		}
		n := networkInterface(*i)
		out.NetworkInterfaces = append(out.NetworkInterfaces, &n)
	}
	cg := s.CgroupStats
	if cg == nil {
		return out
	}
	cs := cg.CpuStats
	out.CPU = cpu{
		Usage: cpuUsage{
			Total:        cs.CpuUsage.TotalUsage,
			Percpu:       cs.CpuUsage.PercpuUsage,
			PercpuKernel: cs.CpuUsage.PercpuUsageInKernelmode,
			PercpuUser:   cs.CpuUsage.PercpuUsageInUsermode,
			Kernel:       cs.CpuUsage.UsageInKernelmode,
			User:         cs.CpuUsage.UsageInUsermode,
		},
		Throttling: throttling{
			Periods:          cs.ThrottlingData.Periods,
			ThrottledPeriods: cs.ThrottlingData.ThrottledPeriods,
			ThrottledTime:    cs.ThrottlingData.ThrottledTime,
		},
		PSI: cs.PSI,
	}
	out.CPUSet = cpuset(cg.CPUSetStats)
	ms := cg.MemoryStats
	out.Memory = memory{
		Cache:     ms.Cache,
		Usage:     convertMemoryEntry(ms.Usage),
		Swap:      convertMemoryEntry(ms.SwapUsage),
		Kernel:    convertMemoryEntry(ms.KernelUsage),
		KernelTCP: convertMemoryEntry(ms.KernelTCPUsage),
		Raw:       ms.Stats,
		PSI:       ms.PSI,
	}
	out.Pids = pids{Current: cg.PidsStats.Current, Limit: cg.PidsStats.Limit}
	bs := cg.BlkioStats
	out.Blkio = blkio{
		IoServiceBytesRecursive: convertBlkio(bs.IoServiceBytesRecursive),
		IoServicedRecursive:     convertBlkio(bs.IoServicedRecursive),
		IoQueuedRecursive:       convertBlkio(bs.IoQueuedRecursive),
		IoServiceTimeRecursive:  convertBlkio(bs.IoServiceTimeRecursive),
		IoWaitTimeRecursive:     convertBlkio(bs.IoWaitTimeRecursive),
		IoMergedRecursive:       convertBlkio(bs.IoMergedRecursive),
		IoTimeRecursive:         convertBlkio(bs.IoTimeRecursive),
		SectorsRecursive:        convertBlkio(bs.SectorsRecursive),
		PSI:                     bs.PSI,
	}
	for size, h := range cg.HugetlbStats {
		out.Hugetlb[size] = hugetlb{Usage: h.Usage, Max: h.MaxUsage, Failcnt: h.Failcnt}
	}
	return out
}

func convertMemoryEntry(m cgroups.MemoryData) memoryEntry {
	return memoryEntry{Limit: m.Limit, Usage: m.Usage, Max: m.MaxUsage, Failcnt: m.Failcnt}
}

func convertBlkio(in []cgroups.BlkioStatEntry) []blkioEntry {
	if len(in) == 0 {
		return nil
	}
	out := make([]blkioEntry, len(in))
	for i, e := range in {
		out[i] = blkioEntry(e)
	}
	return out
}
