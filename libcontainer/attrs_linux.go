package libcontainer

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/internal/procfs"
)

// setProcessAttrs applies the per-process settings that need no change
// of user: CPU affinity, resource limits, OOM score, personality,
// scheduling and I/O priority. The affinity comes first: once a
// SCHED_DEADLINE policy is set the kernel refuses to narrow it.
func setProcessAttrs(oomScoreAdj *int, ps *processSetup) error {
	if err := setFinalAffinity(ps); err != nil {
		return err
	}
	if err := setMemoryPolicy(ps.MemoryPolicy); err != nil {
		return step("memory_policy", err)
	}
	for _, rl := range ps.Rlimits {
		lim := unix.Rlimit{Cur: rl.Soft, Max: rl.Hard}
		if err := unix.Prlimit(0, rl.Type, &lim, nil); err != nil {
			hint := ""
			if errors.Is(err, unix.EPERM) {
				hint = " (raising a hard limit needs CAP_SYS_RESOURCE)"
			}
			return step("rlimits", fmt.Errorf("rlimits %s=%d:%d: %w%s", rlimitName(rl.Type), rl.Soft, rl.Hard, err, hint))
		}
	}
	if oomScoreAdj != nil {
		if err := procfs.WriteSelf("oom_score_adj", []byte(strconv.Itoa(*oomScoreAdj))); err != nil {
			return step("oom_score_adj", fmt.Errorf("oom_score_adj %d: %w", *oomScoreAdj, err))
		}
	}
	if p := ps.Personality; p != nil {
		// PER_LINUX and PER_LINUX32 of <linux/personality.h>.
		persona := uintptr(0x0000)
		if p.Domain == "LINUX32" {
			persona = 0x0008
		}
		if _, _, errno := unix.RawSyscall(unix.SYS_PERSONALITY, persona, 0, 0); errno != 0 {
			return step("personality", fmt.Errorf("personality %s: %w", p.Domain, errno))
		}
	}
	if err := setScheduler(ps.Scheduler); err != nil {
		return step("scheduler", err)
	}
	if err := setIOPriority(ps.IOPriority); err != nil {
		return step("io_priority", err)
	}
	return nil
}

var rlimitNames = map[int]string{
	unix.RLIMIT_CPU: "RLIMIT_CPU", unix.RLIMIT_FSIZE: "RLIMIT_FSIZE", unix.RLIMIT_DATA: "RLIMIT_DATA",
	unix.RLIMIT_STACK: "RLIMIT_STACK", unix.RLIMIT_CORE: "RLIMIT_CORE", unix.RLIMIT_RSS: "RLIMIT_RSS",
	unix.RLIMIT_NPROC: "RLIMIT_NPROC", unix.RLIMIT_NOFILE: "RLIMIT_NOFILE", unix.RLIMIT_MEMLOCK: "RLIMIT_MEMLOCK",
	unix.RLIMIT_AS: "RLIMIT_AS", unix.RLIMIT_LOCKS: "RLIMIT_LOCKS", unix.RLIMIT_SIGPENDING: "RLIMIT_SIGPENDING",
	unix.RLIMIT_MSGQUEUE: "RLIMIT_MSGQUEUE", unix.RLIMIT_NICE: "RLIMIT_NICE", unix.RLIMIT_RTPRIO: "RLIMIT_RTPRIO",
	unix.RLIMIT_RTTIME: "RLIMIT_RTTIME",
}

func rlimitName(t int) string {
	if n, ok := rlimitNames[t]; ok {
		return n
	}
	return "rlimit " + strconv.Itoa(t)
}

var schedPolicies = map[string]uint32{
	"SCHED_OTHER": 0, "SCHED_FIFO": 1, "SCHED_RR": 2, "SCHED_BATCH": 3,
	"SCHED_ISO": 4, "SCHED_IDLE": 5, "SCHED_DEADLINE": 6,
}

var schedFlags = map[string]uint64{
	"SCHED_FLAG_RESET_ON_FORK": 0x01, "SCHED_FLAG_RECLAIM": 0x02, "SCHED_FLAG_DL_OVERRUN": 0x04,
	"SCHED_FLAG_KEEP_POLICY": 0x08, "SCHED_FLAG_KEEP_PARAMS": 0x10,
	"SCHED_FLAG_UTIL_CLAMP_MIN": 0x20, "SCHED_FLAG_UTIL_CLAMP_MAX": 0x40,
}

func setScheduler(s *configs.Scheduler) error {
	if s == nil {
		return nil
	}
	policy, ok := schedPolicies[s.Policy]
	if !ok {
		return fmt.Errorf("scheduler.policy: unknown policy %q", s.Policy)
	}
	attr := &unix.SchedAttr{Policy: policy, Nice: s.Nice, Priority: uint32(s.Priority),
		Runtime: s.Runtime, Deadline: s.Deadline, Period: s.Period}
	for _, f := range s.Flags {
		v, ok := schedFlags[f]
		if !ok {
			return fmt.Errorf("scheduler.flags: unknown flag %q", f)
		}
		attr.Flags |= v
	}
	if err := unix.SchedSetAttr(0, attr, 0); err != nil {
		return fmt.Errorf("scheduler %s: %w", s.Policy, err)
	}
	return nil
}

var ioprioClasses = map[string]int{"IOPRIO_CLASS_RT": 1, "IOPRIO_CLASS_BE": 2, "IOPRIO_CLASS_IDLE": 3}

func setIOPriority(p *configs.IOPriority) error {
	if p == nil {
		return nil
	}
	class, ok := ioprioClasses[p.Class]
	if !ok {
		return fmt.Errorf("io_priority.class: unknown class %q", p.Class)
	}
	const ioprioWhoProcess = 1
	prio := class<<13 | p.Priority
	if _, _, errno := unix.RawSyscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, 0, uintptr(prio)); errno != 0 {
		return fmt.Errorf("io_priority %s:%d: %w", p.Class, p.Priority, errno)
	}
	return nil
}

// setAffinity pins pid to the cpus of a list such as "0-3,7".
func setAffinity(pid int, list string) error {
	mask, err := parseIDList(list, maxCPUs)
	if err != nil {
		return err
	}
	// The kernel takes a mask of any length: the cpus past its end are
	// not set.
	if _, _, errno := unix.RawSyscall(unix.SYS_SCHED_SETAFFINITY, uintptr(pid), uintptr(len(mask)*8), uintptr(unsafe.Pointer(&mask[0]))); errno != 0 {
		return fmt.Errorf("pin to cpus %q: %w", list, errno)
	}
	return nil
}

// memoryPolicyMode is the value of a mode of <linux/mempolicy.h>. A
// switch, not a map: a map literal is built at every start of the binary.
func memoryPolicyMode(name string) (uintptr, bool) {
	switch name {
	case "MPOL_DEFAULT":
		return 0, true
	case "MPOL_PREFERRED":
		return 1, true
	case "MPOL_BIND":
		return 2, true
	case "MPOL_INTERLEAVE":
		return 3, true
	case "MPOL_LOCAL":
		return 4, true
	case "MPOL_PREFERRED_MANY":
		return 5, true
	case "MPOL_WEIGHTED_INTERLEAVE":
		return 6, true
	}
	return 0, false
}

// memoryPolicyFlag is the value of a mode flag of <linux/mempolicy.h>.
func memoryPolicyFlag(name string) (uintptr, bool) {
	switch name {
	case "MPOL_F_STATIC_NODES":
		return 1 << 15, true
	case "MPOL_F_RELATIVE_NODES":
		return 1 << 14, true
	case "MPOL_F_NUMA_BALANCING":
		return 1 << 13, true
	}
	return 0, false
}

// maxMemoryNodes bounds node numbers as configs/validate does.
const maxMemoryNodes = 4096

// setMemoryPolicy sets the NUMA memory policy of this thread, the one
// that execs: the policy is a thread's, kept across execve(2) and
// inherited by the threads and processes it starts. It is set once the
// process is in its cgroup, whose cpuset's nodes the kernel holds the
// policy to.
func setMemoryPolicy(p *configs.MemoryPolicy) error {
	if p == nil {
		return nil
	}
	mode, ok := memoryPolicyMode(p.Mode)
	if !ok {
		return fmt.Errorf("invalid memory policy mode %q", p.Mode)
	}
	for _, f := range p.Flags {
		flag, ok := memoryPolicyFlag(f)
		if !ok {
			return fmt.Errorf("invalid memory policy flag %q", f)
		}
		mode |= flag
	}
	var nodes []uint64
	if p.Nodes != "" {
		var err error
		if nodes, err = parseIDList(p.Nodes, maxMemoryNodes); err != nil {
			return fmt.Errorf("invalid memory policy nodes: %w", err)
		}
	}
	var mask unsafe.Pointer
	var maxnode uintptr
	if len(nodes) > 0 {
		// The kernel reads one bit less than maxnode says.
		mask, maxnode = unsafe.Pointer(&nodes[0]), uintptr(len(nodes)*64+1)
	}
	if _, _, errno := unix.RawSyscall(unix.SYS_SET_MEMPOLICY, mode, uintptr(mask), maxnode); errno != 0 {
		hint := ""
		if errno == unix.EINVAL && len(nodes) > 0 {
			hint = " (the kernel wants a node of the policy online and in the container's cpuset)"
		}
		return fmt.Errorf("memory policy %s nodes %q %v: set_mempolicy: %w%s", p.Mode, p.Nodes, p.Flags, errno, hint)
	}
	return nil
}

// setFinalAffinity pins the process where it will run: on the cpus of
// its execCPUAffinity.final, or else on every cpu its cgroup's cpuset
// allows. The process inherited the affinity of the runtime, and the
// kernel keeps an affinity asked for (since Linux 6.2) when the process
// moves to a cpuset that allows more: a runtime started under taskset, or
// by a service pinned with systemd's CPUAffinity=, would pin every
// container to its cpus, where Kubernetes' static CPU manager gave them
// others. runc resets it the same way. It is this thread's, the one that
// execs, and what it starts inherits it.
func setFinalAffinity(ps *processSetup) error {
	if a := ps.CPUAffinity; a != nil && a.Final != "" {
		if err := setAffinity(0, a.Final); err != nil {
			return step("exec_cpu_affinity", fmt.Errorf("exec_cpu_affinity.final: %w", err))
		}
		return nil
	}
	// A mask of every cpu a mask can name: sched_setaffinity(2) cuts it
	// down to the cpus that exist and that the cpuset allows, so there
	// is nothing to read. It fails only where the cpuset allows none;
	// the process then keeps the affinity it has, as with runc, which
	// warns.
	var every [maxCPUs / 64]uint64
	for i := range every {
		every[i] = ^uint64(0)
	}
	unix.RawSyscall(unix.SYS_SCHED_SETAFFINITY, 0, uintptr(len(every)*8), uintptr(unsafe.Pointer(&every)))
	return nil
}

// maxCPUs is the kernel's largest CONFIG_NR_CPUS.
const maxCPUs = 8192

// parseIDList parses a kernel list of cpus or memory nodes ("0-3,7"),
// each below limit, into a bit mask as sched_setaffinity(2) and
// set_mempolicy(2) take it: as long as its highest bit needs.
func parseIDList(list string, limit int) ([]uint64, error) {
	var mask []uint64
	for _, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.Atoi(lo)
		if err != nil || first < 0 {
			return nil, fmt.Errorf("list %q: bad number %q", list, lo)
		}
		last := first
		if isRange {
			if last, err = strconv.Atoi(hi); err != nil || last < first {
				return nil, fmt.Errorf("list %q: bad range %q", list, part)
			}
		}
		if last >= limit {
			return nil, fmt.Errorf("list %q: %d is out of range (%d at most)", list, last, limit-1)
		}
		if n := last/64 + 1; n > len(mask) {
			mask = append(mask, make([]uint64, n-len(mask))...)
		}
		for id := first; id <= last; id++ {
			mask[id/64] |= 1 << (id % 64)
		}
	}
	return mask, nil
}
