package validate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/corral-oci/corral/libcontainer/capabilities"
	"github.com/corral-oci/corral/libcontainer/configs"
)

func (v *checker) capabilities() {
	cp := v.c.Capabilities
	if cp == nil {
		return
	}
	for _, set := range []struct {
		field string
		names []string
	}{
		{"Bounding", cp.Bounding},
		{"Effective", cp.Effective},
		{"Inheritable", cp.Inheritable},
		{"Permitted", cp.Permitted},
		{"Ambient", cp.Ambient},
	} {
		for i, n := range set.names {
			if !capabilities.Known(n) {
				v.failf(fmt.Sprintf("capabilities.%s[%d]", set.field, i), n, "is not a capability")
			}
		}
	}
	// capset(2) refuses an effective capability that is not permitted, and
	// PR_CAP_AMBIENT_RAISE one that is not both permitted and inheritable:
	// caught here, they do not fail the start after the mounts are made.
	for i, n := range cp.Effective {
		if capabilities.Known(n) && !slices.Contains(cp.Permitted, n) {
			v.failf(fmt.Sprintf("capabilities.Effective[%d]", i), n, "is not in the permitted set")
		}
	}
	for i, n := range cp.Ambient {
		if !capabilities.Known(n) {
			continue
		}
		var missing []string
		if !slices.Contains(cp.Permitted, n) {
			missing = append(missing, "permitted")
		}
		if !slices.Contains(cp.Inheritable, n) {
			missing = append(missing, "inheritable")
		}
		if len(missing) > 0 {
			sets := "set"
			if len(missing) > 1 {
				sets = "sets"
			}
			v.failf(fmt.Sprintf("capabilities.Ambient[%d]", i), n, "is not in the %s %s; an ambient capability must be permitted and inheritable", strings.Join(missing, " and "), sets)
		}
	}
}

func validAction(a configs.Action) bool { return a >= configs.Kill && a <= configs.KillProcess }

// takesErrno reports whether an action returns a value to the caller:
// only those use an errno.
func takesErrno(a configs.Action) bool { return a == configs.Errno || a == configs.Trace }

func (v *checker) seccomp() {
	s := v.c.Seccomp
	if s == nil {
		return
	}
	const f = "seccomp"
	switch a := s.DefaultAction; {
	case !validAction(a):
		v.failf(f+".default_action", int(a), "is not a seccomp action (%d to %d)", int(configs.Kill), int(configs.KillProcess))
	case a == configs.Notify:
		// libseccomp refuses it: every syscall, the runtime's own last
		// ones included, would wait on an agent.
		v.failf(f+".default_action", a, "cannot be the default action")
	}
	if e := s.DefaultErrnoRet; e != nil && validAction(s.DefaultAction) && !takesErrno(s.DefaultAction) {
		v.failf(f+".default_errno_ret", *e, "is only used by SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not %s", s.DefaultAction)
	}
	for i, a := range s.Architectures {
		if name, ok := strings.CutPrefix(a, "SCMP_ARCH_"); !ok || name == "" {
			v.failf(fmt.Sprintf("%s.architectures[%d]", f, i), a, "is not an architecture name (SCMP_ARCH_...)")
		}
	}
	for i, fl := range s.Flags {
		if !slices.Contains(configs.SeccompFlags, fl) {
			v.failf(fmt.Sprintf("%s.flags[%d]", f, i), string(fl), "is not a seccomp filter flag (%s)", joinNames(configs.SeccompFlags))
		}
	}
	notify := false
	for i, sc := range s.Syscalls {
		sf := fmt.Sprintf("%s.syscalls[%d]", f, i)
		if sc == nil {
			v.failf(sf, nil, "is null")
			continue
		}
		if sc.Name == "" {
			v.failf(sf+".name", nil, "must be set")
		}
		switch {
		case !validAction(sc.Action):
			v.failf(sf+".action", int(sc.Action), "is not a seccomp action (%d to %d)", int(configs.Kill), int(configs.KillProcess))
		case sc.Action == configs.Notify:
			notify = true
			// init still runs Go and talks to the runtime after the
			// filter is loaded, before any agent has the listener: a
			// notified syscall there would hang it forever.
			if notifyDeadlocks[sc.Name] {
				v.failf(sf+".action", sc.Action, "cannot apply to %q: the runtime's init still needs it after the filter is loaded", sc.Name)
			}
		}
		if sc.ErrnoRet != nil && validAction(sc.Action) && !takesErrno(sc.Action) {
			v.failf(sf+".errnoRet", *sc.ErrnoRet, "is only used by SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not %s", sc.Action)
		}
		for j, a := range sc.Args {
			af := fmt.Sprintf("%s.args[%d]", sf, j)
			if a == nil {
				v.failf(af, nil, "is null")
				continue
			}
			if a.Index >= configs.MaxSyscallArgs {
				v.failf(af+".index", a.Index, "is not an argument index (0 to %d)", configs.MaxSyscallArgs-1)
			}
			if a.Op < configs.EqualTo || a.Op > configs.MaskEqualTo {
				v.failf(af+".op", int(a.Op), "is not a comparison operator (%d to %d)", int(configs.EqualTo), int(configs.MaskEqualTo))
			}
		}
	}
	if p := s.ListenerPath; p != "" {
		v.absPath(f+".listener_path", p)
	} else {
		// Without a listener the notify fd has nowhere to go, and the
		// first notified syscall blocks the container for good.
		if notify {
			v.failf(f+".listener_path", nil, "must be set when a rule uses SCMP_ACT_NOTIFY")
		}
		if s.ListenerMetadata != "" {
			v.failf(f+".listener_metadata", s.ListenerMetadata, "needs listener_path")
		}
	}
}

// notifyDeadlocks are the syscalls init makes between loading a filter and
// handing its listener to the agent: the hand-off itself and what the Go
// runtime may call at any time.
var notifyDeadlocks = map[string]bool{
	"write": true, "writev": true, "sendmsg": true, "sendto": true,
	"read": true, "readv": true, "recvmsg": true, "recvfrom": true,
	"futex": true, "mmap": true, "munmap": true, "madvise": true, "mprotect": true,
	"rt_sigprocmask": true, "rt_sigreturn": true, "sigaltstack": true, "tgkill": true,
	"sched_yield": true, "nanosleep": true, "clock_nanosleep": true,
	"epoll_wait": true, "epoll_pwait": true, "epoll_pwait2": true, "epoll_ctl": true,
	"close": true, "exit": true, "exit_group": true, "getpid": true, "gettid": true,
}
