package configs

import (
	"fmt"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// SeccompFlags are the seccomp(2) filter flags the runtime spec lists.
// SECCOMP_FILTER_FLAG_TSYNC has no constant in specs-go.
var SeccompFlags = []specs.LinuxSeccompFlag{
	"SECCOMP_FILTER_FLAG_TSYNC",
	specs.LinuxSeccompFlagLog,
	specs.LinuxSeccompFlagSpecAllow,
	specs.LinuxSeccompFlagWaitKillableRecv,
}

// MaxSyscallArgs is the number of arguments of a syscall a seccomp rule
// can test.
const MaxSyscallArgs = 6

// Seccomp is a syscall filter.
type Seccomp struct {
	// DefaultAction applies to syscalls no rule matches.
	DefaultAction Action `json:"default_action"`

	// DefaultErrnoRet is the errno of an Errno default action (EPERM
	// when nil).
	DefaultErrnoRet *uint `json:"default_errno_ret,omitempty"`

	// Architectures the filter also covers ("SCMP_ARCH_X86").
	Architectures []string `json:"architectures,omitempty"`

	// Flags for seccomp(2) (SECCOMP_FILTER_FLAG_*).
	Flags []specs.LinuxSeccompFlag `json:"flags,omitempty"`

	// Syscalls are the rules.
	Syscalls []*Syscall `json:"syscalls,omitempty"`

	// ListenerPath is the unix socket that receives the notify fd.
	ListenerPath string `json:"listener_path,omitempty"`

	// ListenerMetadata is passed along with the notify fd.
	ListenerMetadata string `json:"listener_metadata,omitempty"`
}

// Action is what the filter does with a syscall.
type Action int

// The seccomp actions.
const (
	Kill Action = iota + 1
	Errno
	Trap
	Allow
	Trace
	Log
	Notify
	KillThread
	KillProcess
)

// String is the action's OCI name.
func (a Action) String() string {
	switch a {
	case Kill:
		return "SCMP_ACT_KILL"
	case Errno:
		return "SCMP_ACT_ERRNO"
	case Trap:
		return "SCMP_ACT_TRAP"
	case Allow:
		return "SCMP_ACT_ALLOW"
	case Trace:
		return "SCMP_ACT_TRACE"
	case Log:
		return "SCMP_ACT_LOG"
	case Notify:
		return "SCMP_ACT_NOTIFY"
	case KillThread:
		return "SCMP_ACT_KILL_THREAD"
	case KillProcess:
		return "SCMP_ACT_KILL_PROCESS"
	}
	return "unknown action"
}

// Operator compares a syscall argument.
type Operator int

// The comparison operators.
const (
	EqualTo Operator = iota + 1
	NotEqualTo
	GreaterThan
	GreaterThanOrEqualTo
	LessThan
	LessThanOrEqualTo
	MaskEqualTo
)

// Arg is a condition on one syscall argument.
type Arg struct {
	Index    uint     `json:"index"`
	Value    uint64   `json:"value"`
	ValueTwo uint64   `json:"value_two,omitempty"`
	Op       Operator `json:"op"`
}

// Syscall is one rule of the filter.
type Syscall struct {
	Name     string `json:"name"`
	Action   Action `json:"action"`
	ErrnoRet *uint  `json:"errnoRet,omitempty"`
	Args     []*Arg `json:"args,omitempty"`
}

var actionByName = map[string]Action{
	"SCMP_ACT_KILL":         Kill,
	"SCMP_ACT_ERRNO":        Errno,
	"SCMP_ACT_TRAP":         Trap,
	"SCMP_ACT_ALLOW":        Allow,
	"SCMP_ACT_TRACE":        Trace,
	"SCMP_ACT_LOG":          Log,
	"SCMP_ACT_NOTIFY":       Notify,
	"SCMP_ACT_KILL_THREAD":  KillThread,
	"SCMP_ACT_KILL_PROCESS": KillProcess,
}

// ParseAction returns the action of an OCI name ("SCMP_ACT_ERRNO").
func ParseAction(name string) (Action, error) {
	if a, ok := actionByName[name]; ok {
		return a, nil
	}
	return 0, fmt.Errorf("unknown seccomp action %q", name)
}

var operatorByName = map[string]Operator{
	"SCMP_CMP_NE":        NotEqualTo,
	"SCMP_CMP_LT":        LessThan,
	"SCMP_CMP_LE":        LessThanOrEqualTo,
	"SCMP_CMP_EQ":        EqualTo,
	"SCMP_CMP_GE":        GreaterThanOrEqualTo,
	"SCMP_CMP_GT":        GreaterThan,
	"SCMP_CMP_MASKED_EQ": MaskEqualTo,
}

// ParseOperator returns the operator of an OCI name ("SCMP_CMP_EQ").
func ParseOperator(name string) (Operator, error) {
	if o, ok := operatorByName[name]; ok {
		return o, nil
	}
	return 0, fmt.Errorf("unknown seccomp operator %q", name)
}

// String is the operator's OCI name.
func (o Operator) String() string {
	for name, v := range operatorByName {
		if v == o {
			return name
		}
	}
	return "unknown operator"
}
