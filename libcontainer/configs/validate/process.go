package validate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// rlimitNames are the RLIMIT_* resources by number. The numbering is
// the architecture's (MIPS and SPARC differ), hence the unix constants.
var rlimitNames = map[int]string{
	unix.RLIMIT_CPU:        "RLIMIT_CPU",
	unix.RLIMIT_FSIZE:      "RLIMIT_FSIZE",
	unix.RLIMIT_DATA:       "RLIMIT_DATA",
	unix.RLIMIT_STACK:      "RLIMIT_STACK",
	unix.RLIMIT_CORE:       "RLIMIT_CORE",
	unix.RLIMIT_RSS:        "RLIMIT_RSS",
	unix.RLIMIT_NPROC:      "RLIMIT_NPROC",
	unix.RLIMIT_NOFILE:     "RLIMIT_NOFILE",
	unix.RLIMIT_MEMLOCK:    "RLIMIT_MEMLOCK",
	unix.RLIMIT_AS:         "RLIMIT_AS",
	unix.RLIMIT_LOCKS:      "RLIMIT_LOCKS",
	unix.RLIMIT_SIGPENDING: "RLIMIT_SIGPENDING",
	unix.RLIMIT_MSGQUEUE:   "RLIMIT_MSGQUEUE",
	unix.RLIMIT_NICE:       "RLIMIT_NICE",
	unix.RLIMIT_RTPRIO:     "RLIMIT_RTPRIO",
	unix.RLIMIT_RTTIME:     "RLIMIT_RTTIME",
}

func (v *checker) rlimits() {
	seen := make(map[int]int)
	for i, r := range v.c.Rlimits {
		f := fmt.Sprintf("rlimits[%d]", i)
		name, ok := rlimitNames[r.Type]
		if !ok {
			v.failf(f+".type", r.Type, "is not a resource (0 to %d)", len(rlimitNames)-1)
			continue
		}
		if j, dup := seen[r.Type]; dup {
			v.failf(f+".type", r.Type, "is %s again (also rlimits[%d])", name, j)
		}
		seen[r.Type] = i
		if r.Soft > r.Hard {
			v.failf(f+".soft", r.Soft, "is above hard %d of %s", r.Hard, name)
		}
	}
}

// maxSignal is SIGRTMAX on Linux.
const maxSignal = 64

// process checks the attributes of the container's processes.
func (v *checker) process() {
	c := v.c
	if o := c.OomScoreAdj; o != nil && (*o < -1000 || *o > 1000) {
		v.failf("oom_score_adj", *o, "is not within -1000 to 1000")
	}
	if u := c.Umask; u != nil && *u&^0o777 != 0 {
		v.failf("umask", octal(*u), "has bits beyond 0777")
	}
	if s := c.ParentDeathSignal; s < 0 || s > maxSignal {
		v.failf("parent_death_signal", s, "is not a signal (1 to %d)", maxSignal)
	}
	if p := c.Personality; p != nil {
		if p.Domain != "LINUX" && p.Domain != "LINUX32" {
			v.failf("personality.domain", p.Domain, `is not "LINUX" or "LINUX32"`)
		}
		if len(p.Flags) > 0 {
			v.failf("personality.flags", nil, "are not supported")
		}
	}
	v.scheduler()
	if io := c.IOPriority; io != nil {
		switch specs.IOPriorityClass(io.Class) {
		case specs.IOPRIO_CLASS_RT, specs.IOPRIO_CLASS_BE, specs.IOPRIO_CLASS_IDLE:
		default:
			v.failf("io_priority.class", io.Class, "is not IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE")
		}
		if io.Priority < 0 || io.Priority > 7 {
			v.failf("io_priority.priority", io.Priority, "is not within 0 to 7")
		}
	}
	v.memoryPolicy()
	if a := c.ExecCPUAffinity; a != nil {
		if a.Initial != "" {
			v.cpuList("exec_cpu_affinity.initial", a.Initial, v.m.cpus, "cpu")
		}
		if a.Final != "" {
			v.cpuList("exec_cpu_affinity.final", a.Final, v.m.cpus, "cpu")
		}
	}
}

var schedFlags = []specs.LinuxSchedulerFlag{
	specs.SchedFlagResetOnFork,
	specs.SchedFlagReclaim,
	specs.SchedFlagDLOverrun,
	specs.SchedFlagKeepPolicy,
	specs.SchedFlagKeepParams,
	specs.SchedFlagUtilClampMin,
	specs.SchedFlagUtilClampMax,
}

// scheduler follows what sched_setattr(2) accepts per policy.
func (v *checker) scheduler() {
	s := v.c.Scheduler
	if s == nil {
		return
	}
	rt, deadline := false, false
	switch specs.LinuxSchedulerPolicy(s.Policy) {
	case specs.SchedOther, specs.SchedBatch, specs.SchedIdle, specs.SchedISO:
	case specs.SchedFIFO, specs.SchedRR:
		rt = true
	case specs.SchedDeadline:
		deadline = true
	default:
		v.failf("scheduler.policy", s.Policy, "is not a scheduling policy (SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, SCHED_IDLE or SCHED_DEADLINE)")
		return
	}
	if s.Nice < -20 || s.Nice > 19 {
		v.failf("scheduler.nice", s.Nice, "is not within -20 to 19")
	}
	switch {
	case rt && (s.Priority < 1 || s.Priority > 99):
		v.failf("scheduler.priority", s.Priority, "is not within 1 to 99, as %s needs", s.Policy)
	case !rt && s.Priority != 0:
		v.failf("scheduler.priority", s.Priority, "must be 0 for %s; only SCHED_FIFO and SCHED_RR have priorities", s.Policy)
	}
	if deadline {
		switch {
		case s.Runtime == 0:
			v.failf("scheduler.runtime", nil, "must be set for SCHED_DEADLINE")
		case s.Deadline == 0:
			v.failf("scheduler.deadline", nil, "must be set for SCHED_DEADLINE")
		case s.Runtime > s.Deadline:
			v.failf("scheduler.runtime", s.Runtime, "exceeds deadline %d", s.Deadline)
		case s.Period != 0 && s.Deadline > s.Period:
			v.failf("scheduler.deadline", s.Deadline, "exceeds period %d", s.Period)
		}
		// sched_setattr(2) refuses SCHED_DEADLINE (EPERM) to a task
		// whose CPUs are not all of its root domain's: found here, it
		// does not fail the start after the mounts are made. runc's
		// words, which engines know.
		if cg := v.c.Cgroups; cg != nil && cg.Resources != nil && cg.Resources.CpusetCpus != "" {
			v.failf("scheduler.policy", s.Policy, "process scheduler can't be used together with AllowedCPUs (cgroups.resources.cpuset_cpus %q): the kernel refuses SCHED_DEADLINE to a task that may not run on every CPU", cg.Resources.CpusetCpus)
		}
	} else if s.Runtime != 0 || s.Deadline != 0 || s.Period != 0 {
		v.failf("scheduler", nil, "runtime, deadline and period are only for SCHED_DEADLINE, not %s", s.Policy)
	}
	for i, fl := range s.Flags {
		if !slices.Contains(schedFlags, specs.LinuxSchedulerFlag(fl)) {
			v.failf(fmt.Sprintf("scheduler.flags[%d]", i), fl, "is not a scheduling flag (%s)", joinNames(schedFlags))
		}
	}
}

// memoryPolicyModes are the modes of set_mempolicy(2), in the order of
// <linux/mempolicy.h>.
var memoryPolicyModes = []string{
	"MPOL_DEFAULT", "MPOL_PREFERRED", "MPOL_BIND", "MPOL_INTERLEAVE",
	"MPOL_LOCAL", "MPOL_PREFERRED_MANY", "MPOL_WEIGHTED_INTERLEAVE",
}

// memoryPolicyNodes says how many nodes a memory policy mode takes, as
// set_mempolicy(2) wants them: none, some, or either (MPOL_PREFERRED
// without nodes is local allocation).
func memoryPolicyNodes(mode string) string {
	switch mode {
	case "MPOL_DEFAULT", "MPOL_LOCAL":
		return "none"
	case "MPOL_PREFERRED":
		return "either"
	}
	return "some"
}

var memoryPolicyFlags = []string{"MPOL_F_STATIC_NODES", "MPOL_F_RELATIVE_NODES", "MPOL_F_NUMA_BALANCING"}

// maxMemoryNode is the largest node number runc accepts.
const maxMemoryNode = 4095

// memoryPolicy refuses what set_mempolicy(2) would refuse with a bare
// EINVAL, and flags it would accept and ignore. Nodes the machine does
// not have are the kernel's to judge: it drops those the cpuset does not
// allow and refuses a policy left with none, and a relative node list
// names no node at all. The reasons say "invalid memory policy", as
// runc's errors do.
func (v *checker) memoryPolicy() {
	p := v.c.MemoryPolicy
	if p == nil {
		return
	}
	if !slices.Contains(memoryPolicyModes, p.Mode) {
		v.failf("memory_policy.mode", p.Mode, "is an invalid memory policy mode (want one of %s)", strings.Join(memoryPolicyModes, ", "))
		return
	}
	takes := memoryPolicyNodes(p.Mode)
	flags := make(map[string]bool, len(p.Flags))
	for i, f := range p.Flags {
		if !slices.Contains(memoryPolicyFlags, f) {
			v.failf(fmt.Sprintf("memory_policy.flags[%d]", i), f, "is an invalid memory policy flag (want one of %s)", strings.Join(memoryPolicyFlags, ", "))
		}
		flags[f] = true
	}
	nodes, err := parseList(p.Nodes)
	switch {
	case err != nil:
		v.failf("memory_policy.nodes", p.Nodes, "is an invalid memory policy: not a list of memory nodes like \"0-3,7\": it %v", err)
		return
	case len(nodes) > 0 && nodes[len(nodes)-1].hi > maxMemoryNode:
		v.failf("memory_policy.nodes", p.Nodes, "is an invalid memory policy: node %d is above %d", nodes[len(nodes)-1].hi, maxMemoryNode)
		return
	}
	switch {
	case takes == "none" && len(nodes) > 0:
		v.failf("memory_policy.nodes", p.Nodes, "is an invalid memory policy: %s takes no nodes, got %d", p.Mode, nodes.count())
	case takes == "some" && len(nodes) == 0:
		v.failf("memory_policy.nodes", nil, "is empty, an invalid memory policy: %s takes at least one node", p.Mode)
	}
	if flags["MPOL_F_STATIC_NODES"] && flags["MPOL_F_RELATIVE_NODES"] {
		v.failf("memory_policy.flags", nil, "are an invalid memory policy: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other")
	}
	if (flags["MPOL_F_STATIC_NODES"] || flags["MPOL_F_RELATIVE_NODES"]) && len(nodes) == 0 {
		v.failf("memory_policy.flags", nil, "are an invalid memory policy: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES are about nodes, and %s has none", p.Mode)
	}
	if flags["MPOL_F_NUMA_BALANCING"] && p.Mode != "MPOL_BIND" && p.Mode != "MPOL_PREFERRED_MANY" {
		v.failf("memory_policy.flags", nil, "are an invalid memory policy: MPOL_F_NUMA_BALANCING goes with MPOL_BIND or MPOL_PREFERRED_MANY, not %s", p.Mode)
	}
}
