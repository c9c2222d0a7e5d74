package validate

import (
	"fmt"
	"slices"

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
