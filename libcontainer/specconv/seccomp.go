package specconv

import (
	"fmt"
	"slices"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// seccompArchitectures are the architectures the spec lists (libseccomp
// 2.6 names). An unknown one is refused here, naming the field, instead of
// by libseccomp at start.
var seccompArchitectures = []specs.Arch{
	specs.ArchX86, specs.ArchX86_64, specs.ArchX32,
	specs.ArchARM, specs.ArchAARCH64,
	specs.ArchMIPS, specs.ArchMIPS64, specs.ArchMIPS64N32,
	specs.ArchMIPSEL, specs.ArchMIPSEL64, specs.ArchMIPSEL64N32,
	specs.ArchPPC, specs.ArchPPC64, specs.ArchPPC64LE,
	specs.ArchS390, specs.ArchS390X,
	specs.ArchPARISC, specs.ArchPARISC64,
	specs.ArchRISCV64, specs.ArchLOONGARCH64,
	specs.ArchM68K, specs.ArchSH, specs.ArchSHEB,
}

// convertSeccomp maps linux.seccomp, one configs.Syscall per name.
func convertSeccomp(s *specs.LinuxSeccomp) (*configs.Seccomp, error) {
	if s == nil {
		return nil, nil
	}
	def, err := configs.ParseAction(string(s.DefaultAction))
	if err != nil {
		return nil, fieldError("linux.seccomp.defaultAction", "%v", err)
	}
	// Every syscall would wait for the agent, including those the
	// runtime makes to hand the agent the listener fd: a deadlock.
	if def == configs.Notify {
		return nil, fieldError("linux.seccomp.defaultAction", "%s cannot be the default action", def)
	}
	out := &configs.Seccomp{
		DefaultAction:    def,
		ListenerPath:     s.ListenerPath,
		ListenerMetadata: s.ListenerMetadata,
	}
	if out.DefaultErrnoRet, err = errnoRet("linux.seccomp.defaultErrnoRet", def, s.DefaultErrnoRet); err != nil {
		return nil, err
	}
	for i, a := range s.Architectures {
		if !slices.Contains(seccompArchitectures, a) {
			return nil, fieldError(fmt.Sprintf("linux.seccomp.architectures[%d]", i), "unknown architecture %q", a)
		}
		out.Architectures = append(out.Architectures, string(a))
	}
	for i, f := range s.Flags {
		if !slices.Contains(configs.SeccompFlags, f) {
			return nil, fieldError(fmt.Sprintf("linux.seccomp.flags[%d]", i), "unknown flag %q", f)
		}
	}
	out.Flags = slices.Clone(s.Flags)
	if s.ListenerMetadata != "" && s.ListenerPath == "" {
		return nil, fieldError("linux.seccomp.listenerMetadata", "set without a listenerPath")
	}

	for i := range s.Syscalls {
		field := fmt.Sprintf("linux.seccomp.syscalls[%d]", i)
		rules, err := convertSyscall(field, &s.Syscalls[i])
		if err != nil {
			return nil, err
		}
		// The notify fd goes to the agent at listenerPath; without
		// one, the process would wait forever on its first such call.
		if rules[0].Action == configs.Notify && s.ListenerPath == "" {
			return nil, fieldError(field+".action", "%s needs linux.seccomp.listenerPath", configs.Notify)
		}
		out.Syscalls = append(out.Syscalls, rules...)
	}
	return out, nil
}

// convertSyscall expands one spec rule into a rule per syscall name.
func convertSyscall(field string, sc *specs.LinuxSyscall) ([]*configs.Syscall, error) {
	if len(sc.Names) == 0 {
		return nil, fieldError(field+".names", "empty")
	}
	action, err := configs.ParseAction(string(sc.Action))
	if err != nil {
		return nil, fieldError(field+".action", "%v", err)
	}
	ret, err := errnoRet(field+".errnoRet", action, sc.ErrnoRet)
	if err != nil {
		return nil, err
	}
	args := make([]configs.Arg, 0, len(sc.Args))
	for j, a := range sc.Args {
		afield := fmt.Sprintf("%s.args[%d]", field, j)
		if a.Index >= configs.MaxSyscallArgs {
			return nil, fieldError(afield+".index", "%d is not below %d", a.Index, configs.MaxSyscallArgs)
		}
		op, err := configs.ParseOperator(string(a.Op))
		if err != nil {
			return nil, fieldError(afield+".op", "%v", err)
		}
		args = append(args, configs.Arg{Index: a.Index, Value: a.Value, ValueTwo: a.ValueTwo, Op: op})
	}
	out := make([]*configs.Syscall, 0, len(sc.Names))
	for j, name := range sc.Names {
		if name == "" {
			return nil, fieldError(fmt.Sprintf("%s.names[%d]", field, j), "empty")
		}
		// Each rule gets its own copies: a caller editing one
		// syscall's arguments must not edit its siblings'.
		s := &configs.Syscall{Name: name, Action: action, Args: make([]*configs.Arg, len(args))}
		if ret != nil {
			s.ErrnoRet = ptr(*ret)
		}
		for k := range args {
			s.Args[k] = ptr(args[k])
		}
		if len(args) == 0 {
			s.Args = nil
		}
		out = append(out, s)
	}
	return out, nil
}

// errnoRet copies an errno return, which only SCMP_ACT_ERRNO and
// SCMP_ACT_TRACE can carry; the spec requires an error for the others.
func errnoRet(field string, action configs.Action, ret *uint) (*uint, error) {
	if ret == nil {
		return nil, nil
	}
	if action != configs.Errno && action != configs.Trace {
		return nil, fieldError(field, "set, but %s takes no errno", action)
	}
	return ptr(*ret), nil
}
