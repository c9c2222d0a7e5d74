//go:build linux && cgo

package seccomp

import (
	"errors"
	"fmt"
	"unsafe"

	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// maxErrno is MAX_ERRNO: the kernel clamps a larger SECCOMP_RET_ERRNO
// value to it, so a larger errnoRet is a mistake, not an errno.
const maxErrno = 4095

// Compile validates c and compiles it into a Filter.
//
// Errors name the field ("seccomp.syscalls[3].args[0].index: ..."). A
// syscall name that libseccomp does not know is skipped, not an error,
// so that a profile written for a newer kernel still loads; the ENOSYS
// stub then answers for it. A rule whose action equals the default
// action is skipped too: it changes nothing.
//
// Compile asks the running kernel which flags and actions it supports,
// so call it on the machine that will load the filter.
func Compile(c *configs.Seccomp) (*Filter, error) {
	if c == nil {
		return nil, errors.New("seccomp: no profile")
	}
	def, err := toAction(c.DefaultAction, c.DefaultErrnoRet, "seccomp.defaultAction", "seccomp.defaultErrnoRet")
	if err != nil {
		return nil, err
	}
	flags, err := parseFlags(c)
	if err != nil {
		return nil, err
	}
	archs, err := resolveABIs(c.Architectures)
	if err != nil {
		return nil, err
	}
	rules, err := parseRules(c.Syscalls)
	if err != nil {
		return nil, err
	}

	notify := c.DefaultAction == configs.Notify
	for _, r := range rules {
		notify = notify || r.action == configs.Notify
	}
	if flags, err = finishFlags(flags, notify); err != nil {
		return nil, err
	}

	progs := make([]abiProgram, len(archs))
	for i, a := range archs {
		if progs[i].prog, err = buildProgram(def, a, archs[0], rules); err != nil {
			return nil, err
		}
		progs[i].arch, progs[i].x32 = a.audit, a.x32
		if needsStub(def) {
			progs[i].limit, progs[i].hasLimit = abiLimit(a, archs[0], rules)
		}
	}
	prog, err := link(progs, uint32(unix.ENOSYS))
	if err != nil {
		return nil, fmt.Errorf("seccomp: link: %w", err)
	}
	if len(prog) > bpfMaxInsns {
		return nil, fmt.Errorf("seccomp: filter of %d instructions exceeds the kernel's limit of %d", len(prog), bpfMaxInsns)
	}
	return &Filter{prog: prog, flags: flags}, nil
}

// InitSeccomp compiles c and loads it on the calling thread (on every
// thread with SECCOMP_FILTER_FLAG_TSYNC). It returns the notify
// listener fd, or -1 when the profile has no SCMP_ACT_NOTIFY action. A
// nil c loads nothing.
func InitSeccomp(c *configs.Seccomp) (int, error) {
	if c == nil {
		return -1, nil
	}
	f, err := Compile(c)
	if err != nil {
		return -1, err
	}
	return Load(f)
}

// Version returns the version of the libseccomp library in use.
func Version() (major, minor, micro uint, err error) {
	major, minor, micro = libseccomp.GetLibraryVersion()
	return major, minor, micro, nil
}

// action is a configs action in libseccomp's and the kernel's terms.
type action struct {
	scmp libseccomp.ScmpAction
	ret  uint32 // SECCOMP_RET_*, with its data
}

func toAction(a configs.Action, errnoRet *uint, field, errnoField string) (action, error) {
	var out action
	data := uint32(unix.EPERM) // the OCI default for errnoRet
	if errnoRet != nil {
		switch {
		case a != configs.Errno && a != configs.Trace:
			// The OCI spec: "When the action doesn't support an
			// errno, the runtime MUST print and error and fail."
			return out, fmt.Errorf("%s: %v takes no errno", errnoField, a)
		case a == configs.Errno && *errnoRet > maxErrno:
			return out, fmt.Errorf("%s: %d is not an errno (0..%d)", errnoField, *errnoRet, maxErrno)
		case *errnoRet > 0xffff:
			return out, fmt.Errorf("%s: %d does not fit in 16 bits", errnoField, *errnoRet)
		}
		data = uint32(*errnoRet)
	}
	switch a {
	case configs.Kill, configs.KillThread:
		out = action{libseccomp.ActKillThread, unix.SECCOMP_RET_KILL_THREAD}
	case configs.KillProcess:
		out = action{libseccomp.ActKillProcess, unix.SECCOMP_RET_KILL_PROCESS}
	case configs.Errno:
		out = action{libseccomp.ActErrno.SetReturnCode(int16(data)), unix.SECCOMP_RET_ERRNO | data}
	case configs.Trap:
		out = action{libseccomp.ActTrap, unix.SECCOMP_RET_TRAP}
	case configs.Allow:
		out = action{libseccomp.ActAllow, unix.SECCOMP_RET_ALLOW}
	case configs.Trace:
		out = action{libseccomp.ActTrace.SetReturnCode(int16(data)), unix.SECCOMP_RET_TRACE | data}
	case configs.Log:
		out = action{libseccomp.ActLog, unix.SECCOMP_RET_LOG}
	case configs.Notify:
		out = action{libseccomp.ActNotify, unix.SECCOMP_RET_USER_NOTIF}
	default:
		return out, fmt.Errorf("%s: unknown action %d", field, int(a))
	}
	if !kernelHasAction(out.ret) {
		return out, fmt.Errorf("%s: %v is not supported by the running kernel", field, a)
	}
	return out, nil
}

// needsStub reports whether the default action denies. An allowing
// default (ALLOW, LOG) already lets a new syscall reach the kernel, and
// ERRNO(ENOSYS) is what the stub would answer.
func needsStub(def action) bool {
	return def.ret != unix.SECCOMP_RET_ALLOW &&
		def.ret != unix.SECCOMP_RET_LOG &&
		def.ret != unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS)
}

// rule is a validated entry of configs.Seccomp.Syscalls.
type rule struct {
	field  string // "seccomp.syscalls[3]"
	name   string
	nr     libseccomp.ScmpSyscall
	known  bool // libseccomp knows the name
	action configs.Action
	scmp   action
	conds  []libseccomp.ScmpCondition
}

var operators = map[configs.Operator]libseccomp.ScmpCompareOp{
	configs.EqualTo:              libseccomp.CompareEqual,
	configs.NotEqualTo:           libseccomp.CompareNotEqual,
	configs.GreaterThan:          libseccomp.CompareGreater,
	configs.GreaterThanOrEqualTo: libseccomp.CompareGreaterEqual,
	configs.LessThan:             libseccomp.CompareLess,
	configs.LessThanOrEqualTo:    libseccomp.CompareLessOrEqual,
	configs.MaskEqualTo:          libseccomp.CompareMaskedEqual,
}

func parseRules(calls []*configs.Syscall) ([]rule, error) {
	rules := make([]rule, 0, len(calls))
	for i, s := range calls {
		field := fmt.Sprintf("seccomp.syscalls[%d]", i)
		if s == nil {
			return nil, fmt.Errorf("%s: null rule", field)
		}
		if s.Name == "" {
			return nil, fmt.Errorf("%s.name: empty", field)
		}
		act, err := toAction(s.Action, s.ErrnoRet, field+".action", field+".errnoRet")
		if err != nil {
			return nil, err
		}
		r := rule{field: field, name: s.Name, action: s.Action, scmp: act}
		for j, a := range s.Args {
			afield := fmt.Sprintf("%s.args[%d]", field, j)
			if a == nil {
				return nil, fmt.Errorf("%s: null condition", afield)
			}
			if a.Index > 5 {
				return nil, fmt.Errorf("%s.index: %d out of range (0..5)", afield, a.Index)
			}
			op, ok := operators[a.Op]
			if !ok {
				return nil, fmt.Errorf("%s.op: unknown operator %d", afield, int(a.Op))
			}
			c := libseccomp.ScmpCondition{Argument: a.Index, Op: op, Operand1: a.Value}
			if a.Op == configs.MaskEqualTo {
				// OCI: value is the mask, valueTwo what the masked
				// argument must equal; libseccomp takes them so.
				c.Operand2 = a.ValueTwo
			}
			r.conds = append(r.conds, c)
		}
		nr, err := libseccomp.GetSyscallFromName(s.Name)
		switch {
		case err == nil:
			r.nr, r.known = nr, true
		case !errors.Is(err, libseccomp.ErrSyscallDoesNotExist):
			return nil, fmt.Errorf("%s.name: %q: %w", field, s.Name, err)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// parseFlags returns the flags c asks for.
func parseFlags(c *configs.Seccomp) (uint32, error) {
	var flags uint32
	for i, name := range c.Flags {
		bit, ok := flagBit(name)
		if !ok {
			return 0, fmt.Errorf("seccomp.flags[%d]: unknown flag %q", i, name)
		}
		flags |= bit
	}
	return flags, nil
}

// finishFlags adds what a listener needs and checks that the kernel has
// every flag, so the error names the flag instead of Load failing with
// EINVAL.
func finishFlags(flags uint32, notify bool) (uint32, error) {
	if notify {
		flags |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
		if flags&unix.SECCOMP_FILTER_FLAG_TSYNC != 0 {
			// The kernel refuses TSYNC with NEW_LISTENER, because
			// TSYNC reports a failing thread in the return value the
			// listener fd needs, unless TSYNC_ESRCH moves that
			// report to errno ESRCH.
			flags |= unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
		}
	} else {
		// WAIT_KILLABLE_RECV shapes how a listener's notifications
		// wait; without a listener the kernel refuses it, and there
		// is nothing for it to do.
		flags &^= unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
	}
	for bit := uint32(1); bit != 0 && bit <= flags; bit <<= 1 {
		if flags&bit == 0 || kernelHasFlag(bit) {
			continue
		}
		switch bit {
		case unix.SECCOMP_FILTER_FLAG_NEW_LISTENER:
			return 0, errors.New("seccomp: SCMP_ACT_NOTIFY needs SECCOMP_FILTER_FLAG_NEW_LISTENER, which the running kernel lacks")
		case unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH:
			return 0, errors.New("seccomp.flags: SECCOMP_FILTER_FLAG_TSYNC with SCMP_ACT_NOTIFY needs SECCOMP_FILTER_FLAG_TSYNC_ESRCH, which the running kernel lacks")
		}
		return 0, fmt.Errorf("seccomp.flags: %s is not supported by the running kernel", flagName(bit))
	}
	return flags, nil
}

// optimizeBinaryTree asks libseccomp to dispatch on the syscall number
// with a binary search instead of a linear chain: every syscall of the
// container runs the filter, and a large profile's chain is long.
const optimizeBinaryTree = 2

// buildProgram has libseccomp compile the rules for one architecture
// and returns its program. One filter per architecture is much faster
// to compile than one for all (see enosys.go); link joins them.
func buildProgram(def action, a, native abi, rules []rule) ([]insn, error) {
	f, err := libseccomp.NewFilter(def.scmp)
	if err != nil {
		return nil, fmt.Errorf("seccomp: new filter: %w", err)
	}
	defer f.Release()
	// Best effort: older libseccomp lacks these and works without.
	_ = f.SetRawRC(true)
	_ = f.SetOptimize(optimizeBinaryTree)

	// A new filter has the native architecture. Rules still name
	// syscalls by native number; libseccomp translates them.
	if a.scmp != native.scmp {
		if err := f.AddArch(a.scmp); err != nil {
			if errors.Is(err, unix.EDOM) {
				// libseccomp's word for a filter mixing byte orders.
				return nil, fmt.Errorf("seccomp.architectures: %s: byte order differs from the native architecture's: %w", a.name, err)
			}
			return nil, fmt.Errorf("seccomp.architectures: %s: %w", a.name, err)
		}
		if err := f.RemoveArch(native.scmp); err != nil {
			return nil, fmt.Errorf("seccomp: remove native architecture: %w", err)
		}
	}
	for _, r := range rules {
		if !r.known || r.scmp.scmp == def.scmp {
			continue
		}
		if err := addRule(f, r); err != nil {
			return nil, fmt.Errorf("%s: %s on %s: %w", r.field, r.name, a.name, err)
		}
	}
	return exportBPF(f)
}

// addRule adds r. libseccomp refuses two conditions on one argument in
// a rule, so a rule with such conditions becomes one rule per condition,
// matching when any does, as other runtimes do. Otherwise all
// conditions must hold.
func addRule(f *libseccomp.ScmpFilter, r rule) error {
	if len(r.conds) == 0 {
		return f.AddRule(r.nr, r.scmp.scmp)
	}
	if !sharesArgument(r.conds) {
		return f.AddRuleConditional(r.nr, r.scmp.scmp, r.conds)
	}
	for _, c := range r.conds {
		if err := f.AddRuleConditional(r.nr, r.scmp.scmp, []libseccomp.ScmpCondition{c}); err != nil {
			return err
		}
	}
	return nil
}

func sharesArgument(conds []libseccomp.ScmpCondition) bool {
	var seen [6]bool
	for _, c := range conds {
		if seen[c.Argument] {
			return true
		}
		seen[c.Argument] = true
	}
	return false
}

// abiLimit returns the highest syscall number of a the profile names,
// skipped rules included: the profile's author knew those syscalls. An
// architecture whose syscalls the profile never names has none: ENOSYS
// for all of them would turn "deny everything" into "nothing exists".
func abiLimit(a, native abi, rules []rule) (max uint32, found bool) {
	for _, r := range rules {
		if !r.known {
			continue
		}
		nr := r.nr
		if a.scmp != native.scmp {
			var err error
			if nr, err = libseccomp.GetSyscallFromNameByArch(r.name, a.scmp); err != nil {
				continue
			}
		}
		// A negative number is libseccomp's stand-in for a syscall
		// this architecture does not have.
		if nr >= 0 && (!found || uint32(nr) > max) {
			max, found = uint32(nr), true
		}
	}
	return max, found
}

// kernelHasAction asks seccomp(SECCOMP_GET_ACTION_AVAIL) whether the
// kernel knows a SECCOMP_RET_* action. This matters because a kernel
// running a filter that returns an action it does not know kills the
// process instead of failing the load.
func kernelHasAction(ret uint32) bool {
	ret &= unix.SECCOMP_RET_ACTION_FULL
	probed.Lock()
	defer probed.Unlock()
	if ok, done := probed.actions[ret]; done {
		return ok
	}
	v := ret
	_, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_GET_ACTION_AVAIL, 0, uintptr(unsafe.Pointer(&v)))
	ok := errno == 0
	if probed.actions == nil {
		probed.actions = make(map[uint32]bool)
	}
	probed.actions[ret] = ok
	return ok
}
