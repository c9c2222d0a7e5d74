package specconv

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/capabilities"
	"github.com/corral-oci/corral/libcontainer/configs"
)

// convertProcess maps the container-wide settings of process. The rest
// of it (args, env, cwd, user, terminal) belongs to the libcontainer
// Process the CLI builds.
func convertProcess(c *configs.Config, p *specs.Process) error {
	if p == nil {
		return nil
	}
	c.NoNewPrivileges = p.NoNewPrivileges
	c.AppArmorProfile = p.ApparmorProfile
	c.ProcessLabel = p.SelinuxLabel
	if caps := p.Capabilities; caps != nil {
		known := knownCapabilities(caps)
		c.Capabilities = &configs.Capabilities{
			Bounding:    known.Bounding,
			Effective:   known.Effective,
			Inheritable: known.Inheritable,
			Permitted:   known.Permitted,
			Ambient:     raisableAmbient(known),
		}
	}
	if adj := p.OOMScoreAdj; adj != nil {
		if *adj < -1000 || *adj > 1000 {
			return fieldError("process.oomScoreAdj", "%d is outside [-1000, 1000]", *adj)
		}
		c.OomScoreAdj = ptr(*adj)
	}
	if m := p.User.Umask; m != nil {
		if *m > 0o777 {
			return fieldError("process.user.umask", "%#o is not a umask", *m)
		}
		c.Umask = ptr(*m)
	}
	var err error
	if c.Rlimits, err = convertRlimits(p.Rlimits); err != nil {
		return err
	}
	if c.Scheduler, err = convertScheduler(p.Scheduler); err != nil {
		return err
	}
	if c.IOPriority, err = convertIOPriority(p.IOPriority); err != nil {
		return err
	}
	if c.ExecCPUAffinity, err = convertCPUAffinity(p.ExecCPUAffinity); err != nil {
		return err
	}
	return nil
}

// knownCapabilities returns a copy of caps without the names that are no
// capability this runtime knows, with a warning naming them, as runc
// does: the process gets less than the bundle asks, never more (a
// capability newer than the library is one the kernel would refuse to
// grant by name anyway).
func knownCapabilities(caps *specs.LinuxCapabilities) *specs.LinuxCapabilities {
	var unknown []string
	keep := func(names []string) []string {
		var out []string
		for _, n := range names {
			if capabilities.Known(n) {
				out = append(out, n)
			} else if !slices.Contains(unknown, n) {
				unknown = append(unknown, n)
			}
		}
		return out
	}
	out := &specs.LinuxCapabilities{
		Bounding:    keep(caps.Bounding),
		Effective:   keep(caps.Effective),
		Inheritable: keep(caps.Inheritable),
		Permitted:   keep(caps.Permitted),
		Ambient:     keep(caps.Ambient),
	}
	if len(unknown) > 0 {
		slog.Warn("process.capabilities: ignoring unknown capabilities", "capabilities", unknown)
	}
	return out
}

// raisableAmbient returns the ambient capabilities of caps that the
// kernel can raise: those also permitted and inheritable. Bundles that
// list the others are common (`runc spec` of runc 1.1 lists three ambient
// capabilities and no inheritable set), and runc runs them without the
// ones it cannot raise, with a warning: so does corral. The process gets
// less than the bundle asks, never more.
func raisableAmbient(caps *specs.LinuxCapabilities) []string {
	var out, dropped []string
	for _, name := range caps.Ambient {
		if slices.Contains(caps.Permitted, name) && slices.Contains(caps.Inheritable, name) {
			out = append(out, name)
		} else {
			dropped = append(dropped, name)
		}
	}
	if len(dropped) > 0 {
		slog.Warn("process.capabilities.ambient: ignoring capabilities the kernel cannot raise: an ambient capability must also be permitted and inheritable", "capabilities", dropped)
	}
	return out
}

var rlimitTypes = map[string]int{
	"RLIMIT_AS":         unix.RLIMIT_AS,
	"RLIMIT_CORE":       unix.RLIMIT_CORE,
	"RLIMIT_CPU":        unix.RLIMIT_CPU,
	"RLIMIT_DATA":       unix.RLIMIT_DATA,
	"RLIMIT_FSIZE":      unix.RLIMIT_FSIZE,
	"RLIMIT_LOCKS":      unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK":    unix.RLIMIT_MEMLOCK,
	"RLIMIT_MSGQUEUE":   unix.RLIMIT_MSGQUEUE,
	"RLIMIT_NICE":       unix.RLIMIT_NICE,
	"RLIMIT_NOFILE":     unix.RLIMIT_NOFILE,
	"RLIMIT_NPROC":      unix.RLIMIT_NPROC,
	"RLIMIT_RSS":        unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO":     unix.RLIMIT_RTPRIO,
	"RLIMIT_RTTIME":     unix.RLIMIT_RTTIME,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_STACK":      unix.RLIMIT_STACK,
}

// convertRlimits refuses unknown and duplicate types, as the spec
// requires, and a soft limit above the hard one, which setrlimit(2)
// refuses with a bare EINVAL.
func convertRlimits(in []specs.POSIXRlimit) ([]configs.Rlimit, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]configs.Rlimit, 0, len(in))
	seen := make(map[int]bool, len(in))
	for i, l := range in {
		field := fmt.Sprintf("process.rlimits[%d]", i)
		t, ok := rlimitTypes[l.Type]
		if !ok {
			return nil, fieldError(field+".type", "unknown rlimit %q", l.Type)
		}
		if seen[t] {
			return nil, fieldError(field+".type", "duplicate rlimit %q", l.Type)
		}
		seen[t] = true
		if l.Soft > l.Hard {
			return nil, fieldError(field+".soft", "%d is above the hard limit %d", l.Soft, l.Hard)
		}
		out = append(out, configs.Rlimit{Type: t, Hard: l.Hard, Soft: l.Soft})
	}
	return out, nil
}

var schedulerPolicies = []specs.LinuxSchedulerPolicy{
	specs.SchedOther, specs.SchedFIFO, specs.SchedRR, specs.SchedBatch,
	specs.SchedISO, specs.SchedIdle, specs.SchedDeadline,
}

var schedulerFlags = []specs.LinuxSchedulerFlag{
	specs.SchedFlagResetOnFork, specs.SchedFlagReclaim, specs.SchedFlagDLOverrun,
	specs.SchedFlagKeepPolicy, specs.SchedFlagKeepParams,
	specs.SchedFlagUtilClampMin, specs.SchedFlagUtilClampMax,
}

// convertScheduler checks what sched_setattr(2) would refuse with a bare
// EINVAL, so that the error names the field.
func convertScheduler(s *specs.Scheduler) (*configs.Scheduler, error) {
	if s == nil {
		return nil, nil
	}
	if !slices.Contains(schedulerPolicies, s.Policy) {
		return nil, fieldError("process.scheduler.policy", "unknown policy %q", s.Policy)
	}
	out := &configs.Scheduler{
		Policy:   string(s.Policy),
		Nice:     s.Nice,
		Priority: s.Priority,
		Runtime:  s.Runtime,
		Deadline: s.Deadline,
		Period:   s.Period,
	}
	for i, f := range s.Flags {
		if !slices.Contains(schedulerFlags, f) {
			return nil, fieldError(fmt.Sprintf("process.scheduler.flags[%d]", i), "unknown flag %q", f)
		}
		out.Flags = append(out.Flags, string(f))
	}
	if s.Nice < -20 || s.Nice > 19 {
		return nil, fieldError("process.scheduler.nice", "%d is outside [-20, 19]", s.Nice)
	}
	realtime := s.Policy == specs.SchedFIFO || s.Policy == specs.SchedRR
	switch {
	case realtime && (s.Priority < 1 || s.Priority > 99):
		return nil, fieldError("process.scheduler.priority", "%d is outside [1, 99] for %s", s.Priority, s.Policy)
	case !realtime && s.Priority != 0:
		return nil, fieldError("process.scheduler.priority", "%d, but %s takes priority 0", s.Priority, s.Policy)
	}
	if s.Policy == specs.SchedDeadline {
		// sched(7): runtime <= deadline <= period, where a zero period
		// means the deadline.
		period := s.Period
		if period == 0 {
			period = s.Deadline
		}
		if s.Runtime == 0 || s.Runtime > s.Deadline || s.Deadline > period {
			return nil, fieldError("process.scheduler", "SCHED_DEADLINE needs 0 < runtime (%d) <= deadline (%d) <= period (%d)", s.Runtime, s.Deadline, s.Period)
		}
	}
	return out, nil
}

func convertIOPriority(p *specs.LinuxIOPriority) (*configs.IOPriority, error) {
	if p == nil {
		return nil, nil
	}
	switch p.Class {
	case specs.IOPRIO_CLASS_RT, specs.IOPRIO_CLASS_BE, specs.IOPRIO_CLASS_IDLE:
	default:
		return nil, fieldError("process.ioPriority.class", "unknown class %q", p.Class)
	}
	if p.Priority < 0 || p.Priority > 7 {
		return nil, fieldError("process.ioPriority.priority", "%d is outside [0, 7]", p.Priority)
	}
	return &configs.IOPriority{Class: string(p.Class), Priority: p.Priority}, nil
}

func convertCPUAffinity(a *specs.CPUAffinity) (*configs.CPUAffinity, error) {
	if a == nil {
		return nil, nil
	}
	if err := checkCPUList(a.Initial); err != nil {
		return nil, fieldError("process.execCPUAffinity.initial", "%q: %v", a.Initial, err)
	}
	if err := checkCPUList(a.Final); err != nil {
		return nil, fieldError("process.execCPUAffinity.final", "%q: %v", a.Final, err)
	}
	return &configs.CPUAffinity{Initial: a.Initial, Final: a.Final}, nil
}

var memoryPolicyModes = []specs.MemoryPolicyModeType{
	specs.MpolDefault, specs.MpolBind, specs.MpolInterleave, specs.MpolWeightedInterleave,
	specs.MpolPreferred, specs.MpolPreferredMany, specs.MpolLocal,
}

var memoryPolicyFlags = []specs.MemoryPolicyFlagType{
	specs.MpolFNumaBalancing, specs.MpolFRelativeNodes, specs.MpolFStaticNodes,
}

// MemoryPolicyModes are the linux.memoryPolicy modes corral applies, for
// `corral features`.
func MemoryPolicyModes() []string { return names(memoryPolicyModes) }

// MemoryPolicyFlags are the linux.memoryPolicy flags corral applies, for
// `corral features`.
func MemoryPolicyFlags() []string { return names(memoryPolicyFlags) }

// names are the strings of l, sorted as runc lists them.
func names[T ~string](l []T) []string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = string(v)
	}
	slices.Sort(out)
	return out
}

// convertMemoryPolicy checks the names and the node list; which nodes and
// flags go with which mode is configs/validate's to check. The errors say
// "invalid memory policy", as runc's do.
func convertMemoryPolicy(p *specs.LinuxMemoryPolicy) (*configs.MemoryPolicy, error) {
	if p == nil {
		return nil, nil
	}
	if !slices.Contains(memoryPolicyModes, p.Mode) {
		return nil, fieldError("linux.memoryPolicy.mode", "invalid memory policy mode %q (want one of %s)", p.Mode, strings.Join(MemoryPolicyModes(), ", "))
	}
	out := &configs.MemoryPolicy{Mode: string(p.Mode), Nodes: p.Nodes}
	for i, f := range p.Flags {
		if !slices.Contains(memoryPolicyFlags, f) {
			return nil, fieldError(fmt.Sprintf("linux.memoryPolicy.flags[%d]", i), "invalid memory policy flag %q (want one of %s)", f, strings.Join(MemoryPolicyFlags(), ", "))
		}
		out.Flags = append(out.Flags, string(f))
	}
	if err := checkList(p.Nodes, maxNode, "memory node"); err != nil {
		return nil, fieldError("linux.memoryPolicy.nodes", "invalid memory policy nodes %q: %v", p.Nodes, err)
	}
	return out, nil
}

// maxNode bounds memory node numbers as runc does: the kernel's largest
// NODES_SHIFT allows 1024 nodes, runc leaves room.
const maxNode = 4095

// maxCPU bounds cpu numbers to what a cpu set can hold (the kernel's
// CONFIG_NR_CPUS tops out at 8192), so that a typo like "0-99999999" is
// an error and not a huge allocation later.
const maxCPU = 8191

// checkCPUList checks the kernel's cpu list format: "0-3,7", ranges
// ascending.
func checkCPUList(list string) error {
	return checkList(list, maxCPU, "cpu")
}

// checkList checks a list of cpus or memory nodes ("0-3,7"), each at most
// limit; an empty list is none.
func checkList(list string, limit int, what string) error {
	if list == "" {
		return nil
	}
	for part := range strings.SplitSeq(list, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := listNumber(lo, limit, what)
		if err != nil {
			return err
		}
		if !isRange {
			continue
		}
		last, err := listNumber(hi, limit, what)
		if err != nil {
			return err
		}
		if last < first {
			return fmt.Errorf("range %q runs backwards", part)
		}
	}
	return nil
}

func listNumber(s string, limit int, what string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("%q is not a %s number", s, what)
	}
	if n > limit {
		return 0, fmt.Errorf("%s %d is above %d", what, n, limit)
	}
	return n, nil
}
