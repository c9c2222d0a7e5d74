//go:build linux && cgo

package seccomp

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

func ptr(v uint) *uint { return &v }

// nativeAudit is the AUDIT_ARCH of the machine running the tests.
func nativeAudit(t testing.TB) uint32 {
	t.Helper()
	archs, err := resolveABIs(nil)
	if err != nil {
		t.Fatal(err)
	}
	return archs[0].audit
}

// eval runs f's program on a native syscall nr with args.
func eval(t testing.TB, f *Filter, nr uintptr, args ...uint64) uint32 {
	t.Helper()
	return evalArch(t, f, nativeAudit(t), uint32(nr), args...)
}

func evalArch(t testing.TB, f *Filter, arch, nr uint32, args ...uint64) uint32 {
	t.Helper()
	d := seccompData{arch: arch, nr: int32(nr)}
	copy(d.args[:], args)
	ret, err := runBPF(f.prog, d)
	if err != nil {
		t.Fatalf("run filter on arch %#x nr %d: %v", arch, nr, err)
	}
	return ret
}

func compile(t testing.TB, c *configs.Seccomp) *Filter {
	t.Helper()
	f, err := Compile(c)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return f
}

func loadProfile(t testing.TB) *configs.Seccomp {
	t.Helper()
	b, err := os.ReadFile("testdata/profile.json")
	if err != nil {
		t.Fatal(err)
	}
	var c configs.Seccomp
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

func TestCompileErrors(t *testing.T) {
	ok := func() *configs.Seccomp {
		return &configs.Seccomp{
			DefaultAction: configs.Errno,
			Syscalls:      []*configs.Syscall{{Name: "read", Action: configs.Allow}},
		}
	}
	for _, tc := range []struct {
		name  string
		edit  func(*configs.Seccomp)
		field string
	}{
		{"no default action", func(c *configs.Seccomp) { c.DefaultAction = 0 }, "seccomp.defaultAction: unknown action 0"},
		{"bad default action", func(c *configs.Seccomp) { c.DefaultAction = 42 }, "seccomp.defaultAction: unknown action 42"},
		{"errno on allow", func(c *configs.Seccomp) { c.DefaultAction, c.DefaultErrnoRet = configs.Allow, ptr(1) }, "seccomp.defaultErrnoRet: SCMP_ACT_ALLOW takes no errno"},
		{"errno too big", func(c *configs.Seccomp) { c.DefaultErrnoRet = ptr(4096) }, "seccomp.defaultErrnoRet: 4096 is not an errno"},
		{"trace too big", func(c *configs.Seccomp) { c.DefaultAction, c.DefaultErrnoRet = configs.Trace, ptr(1<<16) }, "seccomp.defaultErrnoRet: 65536 does not fit"},
		{"unknown arch", func(c *configs.Seccomp) { c.Architectures = []string{"SCMP_ARCH_X86", "SCMP_ARCH_VAX"} }, `seccomp.architectures[1]: unknown architecture "SCMP_ARCH_VAX"`},
		{"lowercase arch", func(c *configs.Seccomp) { c.Architectures = []string{"x86_64"} }, `seccomp.architectures[0]: unknown architecture "x86_64"`},
		{"unknown flag", func(c *configs.Seccomp) { c.Flags = []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_LOG", "FOO"} }, `seccomp.flags[1]: unknown flag "FOO"`},
		{"listener flag", func(c *configs.Seccomp) { c.Flags = []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_NEW_LISTENER"} }, `seccomp.flags[0]: unknown flag`},
		{"null rule", func(c *configs.Seccomp) { c.Syscalls = append(c.Syscalls, nil) }, "seccomp.syscalls[1]: null rule"},
		{"empty name", func(c *configs.Seccomp) { c.Syscalls[0].Name = "" }, "seccomp.syscalls[0].name: empty"},
		{"bad action", func(c *configs.Seccomp) { c.Syscalls[0].Action = 0 }, "seccomp.syscalls[0].action: unknown action 0"},
		{"errno on kill", func(c *configs.Seccomp) { c.Syscalls[0].Action, c.Syscalls[0].ErrnoRet = configs.KillProcess, ptr(1) }, "seccomp.syscalls[0].errnoRet: SCMP_ACT_KILL_PROCESS takes no errno"},
		{"errno on notify", func(c *configs.Seccomp) { c.Syscalls[0].Action, c.Syscalls[0].ErrnoRet = configs.Notify, ptr(1) }, "seccomp.syscalls[0].errnoRet: SCMP_ACT_NOTIFY takes no errno"},
		{"rule errno too big", func(c *configs.Seccomp) { c.Syscalls[0].Action, c.Syscalls[0].ErrnoRet = configs.Errno, ptr(70000) }, "seccomp.syscalls[0].errnoRet: 70000 is not an errno"},
		{"null arg", func(c *configs.Seccomp) { c.Syscalls[0].Args = []*configs.Arg{nil} }, "seccomp.syscalls[0].args[0]: null condition"},
		{"arg index", func(c *configs.Seccomp) {
			c.Syscalls[0].Args = []*configs.Arg{{Index: 0, Op: configs.EqualTo}, {Index: 6, Op: configs.EqualTo}}
		}, "seccomp.syscalls[0].args[1].index: 6 out of range (0..5)"},
		{"arg op", func(c *configs.Seccomp) { c.Syscalls[0].Args = []*configs.Arg{{Index: 1}} }, "seccomp.syscalls[0].args[0].op: unknown operator 0"},
		// Malformed input is an error even on a syscall that is skipped.
		{"unknown name, bad arg", func(c *configs.Seccomp) {
			c.Syscalls[0].Name = "no_such_syscall"
			c.Syscalls[0].Args = []*configs.Arg{{Index: 9, Op: configs.EqualTo}}
		}, "seccomp.syscalls[0].args[0].index: 9 out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok()
			tc.edit(c)
			_, err := Compile(c)
			if err == nil || !strings.HasPrefix(err.Error(), tc.field) {
				t.Fatalf("got %v, want an error starting %q", err, tc.field)
			}
		})
	}
	if _, err := Compile(nil); err == nil {
		t.Error("nil profile: no error")
	}
	if _, err := Compile(ok()); err != nil {
		t.Errorf("the valid profile: %v", err)
	}
}

// Every action reaches the kernel as its SECCOMP_RET_* value, with the
// errno or trace value asked for.
func TestCompileActions(t *testing.T) {
	for _, tc := range []struct {
		act   configs.Action
		errno *uint
		want  uint32
	}{
		{configs.Kill, nil, unix.SECCOMP_RET_KILL_THREAD},
		{configs.KillThread, nil, unix.SECCOMP_RET_KILL_THREAD},
		{configs.KillProcess, nil, unix.SECCOMP_RET_KILL_PROCESS},
		{configs.Errno, nil, unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		{configs.Errno, ptr(1234), unix.SECCOMP_RET_ERRNO | 1234},
		{configs.Errno, ptr(0), unix.SECCOMP_RET_ERRNO},
		{configs.Trap, nil, unix.SECCOMP_RET_TRAP},
		{configs.Allow, nil, unix.SECCOMP_RET_ALLOW},
		{configs.Trace, nil, unix.SECCOMP_RET_TRACE | uint32(unix.EPERM)},
		{configs.Trace, ptr(0xfffe), unix.SECCOMP_RET_TRACE | 0xfffe},
		{configs.Log, nil, unix.SECCOMP_RET_LOG},
		{configs.Notify, nil, unix.SECCOMP_RET_USER_NOTIF},
	} {
		name := tc.act.String()
		if tc.errno != nil {
			name = fmt.Sprintf("%s(%d)", name, *tc.errno)
		}
		t.Run(name, func(t *testing.T) {
			// As a rule: the default differs from every action tested.
			rules := compile(t, &configs.Seccomp{
				DefaultAction:   configs.Errno,
				DefaultErrnoRet: ptr(99),
				Syscalls: []*configs.Syscall{
					{Name: "getppid", Action: tc.act, ErrnoRet: tc.errno},
					{Name: "read", Action: configs.Allow},
				},
			})
			if got := eval(t, rules, unix.SYS_GETPPID); got != tc.want {
				t.Errorf("rule: got %#x, want %#x", got, tc.want)
			}
			if got := eval(t, rules, unix.SYS_GETPID); got != unix.SECCOMP_RET_ERRNO|99 {
				t.Errorf("default: got %#x", got)
			}
			// As the default.
			def := compile(t, &configs.Seccomp{
				DefaultAction:   tc.act,
				DefaultErrnoRet: tc.errno,
				// clone3 (435 everywhere) puts getppid below the ENOSYS limit.
				Syscalls: []*configs.Syscall{{Name: "clone3", Action: configs.Errno, ErrnoRet: ptr(98)}},
			})
			if got := eval(t, def, unix.SYS_GETPPID); got != tc.want {
				t.Errorf("default: got %#x, want %#x", got, tc.want)
			}
			if got := eval(t, def, unix.SYS_CLONE3); got != unix.SECCOMP_RET_ERRNO|98 {
				t.Errorf("rule under default %v: got %#x", tc.act, got)
			}
			listener := rules.Flags()&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0
			if listener != (tc.act == configs.Notify) {
				t.Errorf("NEW_LISTENER is %v for %v", listener, tc.act)
			}
		})
	}
}

func TestCompileArgs(t *testing.T) {
	f := compile(t, &configs.Seccomp{
		DefaultAction: configs.Allow,
		Syscalls: []*configs.Syscall{
			// Different arguments: all must hold.
			{Name: "getppid", Action: configs.Errno, ErrnoRet: ptr(1), Args: []*configs.Arg{
				{Index: 0, Value: 7, Op: configs.EqualTo},
				{Index: 1, Value: 100, Op: configs.GreaterThan},
			}},
			// One argument twice: either may hold.
			{Name: "getpid", Action: configs.Errno, ErrnoRet: ptr(2), Args: []*configs.Arg{
				{Index: 0, Value: 7, Op: configs.EqualTo},
				{Index: 0, Value: 9, Op: configs.EqualTo},
			}},
			// Value is the mask, ValueTwo what the masked argument equals.
			{Name: "gettid", Action: configs.Errno, ErrnoRet: ptr(3), Args: []*configs.Arg{
				{Index: 2, Value: 0xf0, ValueTwo: 0x30, Op: configs.MaskEqualTo},
			}},
			// 64-bit comparisons see the upper half.
			{Name: "getuid", Action: configs.Errno, ErrnoRet: ptr(4), Args: []*configs.Arg{
				{Index: 5, Value: 1 << 40, Op: configs.GreaterThanOrEqualTo},
			}},
			{Name: "getgid", Action: configs.Errno, ErrnoRet: ptr(5), Args: []*configs.Arg{
				{Index: 0, Value: 10, Op: configs.NotEqualTo},
				{Index: 1, Value: 10, Op: configs.LessThan},
				{Index: 2, Value: 10, Op: configs.LessThanOrEqualTo},
			}},
		},
	})
	allow := uint32(unix.SECCOMP_RET_ALLOW)
	errno := func(e uint32) uint32 { return unix.SECCOMP_RET_ERRNO | e }
	for _, tc := range []struct {
		nr   uintptr
		args []uint64
		want uint32
	}{
		{unix.SYS_GETPPID, []uint64{7, 101}, errno(1)},
		{unix.SYS_GETPPID, []uint64{7, 100}, allow},
		{unix.SYS_GETPPID, []uint64{8, 101}, allow},
		{unix.SYS_GETPID, []uint64{7}, errno(2)},
		{unix.SYS_GETPID, []uint64{9}, errno(2)},
		{unix.SYS_GETPID, []uint64{8}, allow},
		{unix.SYS_GETTID, []uint64{0, 0, 0x1234_5637}, errno(3)},
		{unix.SYS_GETTID, []uint64{0, 0, 0x1234_5647}, allow},
		{unix.SYS_GETUID, []uint64{0, 0, 0, 0, 0, 1 << 40}, errno(4)},
		{unix.SYS_GETUID, []uint64{0, 0, 0, 0, 0, 1<<40 - 1}, allow},
		{unix.SYS_GETGID, []uint64{11, 9, 10}, errno(5)},
		{unix.SYS_GETGID, []uint64{10, 9, 10}, allow},
		{unix.SYS_GETGID, []uint64{11, 10, 10}, allow},
		{unix.SYS_GETGID, []uint64{11, 9, 11}, allow},
	} {
		if got := eval(t, f, tc.nr, tc.args...); got != tc.want {
			t.Errorf("nr %d args %v: got %#x, want %#x", tc.nr, tc.args, got, tc.want)
		}
	}
}

// A name libseccomp does not know is skipped; one it knows but this
// architecture lacks is added where it exists. A rule with the default
// action changes nothing and is skipped.
func TestCompileSkips(t *testing.T) {
	f := compile(t, &configs.Seccomp{
		DefaultAction: configs.Errno,
		Syscalls: []*configs.Syscall{
			{Name: "no_such_syscall", Action: configs.Allow},
			{Name: "socketcall", Action: configs.Allow},
			{Name: "getcwd", Action: configs.Errno},
			{Name: "read", Action: configs.Allow},
		},
	})
	if got := eval(t, f, unix.SYS_READ); got != unix.SECCOMP_RET_ALLOW {
		t.Errorf("read: %#x", got)
	}
	if got := eval(t, f, unix.SYS_GETCWD); got != unix.SECCOMP_RET_ERRNO|uint32(unix.EPERM) {
		t.Errorf("getcwd: %#x", got)
	}
}

func TestCompileENOSYS(t *testing.T) {
	if nativeAudit(t) != unix.AUDIT_ARCH_X86_64 {
		t.Skip("syscall numbers below are x86_64's")
	}
	f := compile(t, &configs.Seccomp{
		DefaultAction:   configs.Errno,
		DefaultErrnoRet: ptr(uint(unix.EPERM)),
		Architectures:   []string{"SCMP_ARCH_X86", "SCMP_ARCH_X32"},
		Syscalls: []*configs.Syscall{
			{Name: "read", Action: configs.Allow},
			{Name: "write", Action: configs.Allow},
			// Denied, but known: it sets the limit (x86_64 231, i386 252).
			{Name: "exit_group", Action: configs.Errno},
			{Name: "no_such_syscall", Action: configs.Allow},
		},
	})
	eperm := unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	enosys := unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	const i386 = unix.AUDIT_ARCH_I386
	for _, tc := range []struct {
		name string
		arch uint32
		nr   uint32
		want uint32
	}{
		{"read", unix.AUDIT_ARCH_X86_64, unix.SYS_READ, unix.SECCOMP_RET_ALLOW},
		{"getcwd: known to the profile", unix.AUDIT_ARCH_X86_64, unix.SYS_GETCWD, eperm},
		{"exit_group: the limit", unix.AUDIT_ARCH_X86_64, unix.SYS_EXIT_GROUP, eperm},
		{"above the limit", unix.AUDIT_ARCH_X86_64, unix.SYS_EXIT_GROUP + 1, enosys},
		{"clone3", unix.AUDIT_ARCH_X86_64, unix.SYS_CLONE3, enosys},
		{"openat2", unix.AUDIT_ARCH_X86_64, unix.SYS_OPENAT2, enosys},
		{"faccessat2", unix.AUDIT_ARCH_X86_64, unix.SYS_FACCESSAT2, enosys},
		{"1000", unix.AUDIT_ARCH_X86_64, 1000, enosys},
		{"i386 read", i386, 3, unix.SECCOMP_RET_ALLOW},
		{"i386 exit_group", i386, 252, eperm},
		{"i386 253", i386, 253, enosys},
		{"i386 clone3", i386, 435, enosys},
		{"x32 read", unix.AUDIT_ARCH_X86_64, x32SyscallBit, unix.SECCOMP_RET_ALLOW},
		{"x32 exit_group", unix.AUDIT_ARCH_X86_64, x32SyscallBit | 231, eperm},
		{"x32 clone3", unix.AUDIT_ARCH_X86_64, x32SyscallBit | 435, enosys},
		{"arm: not in the filter", unix.AUDIT_ARCH_ARM, 3, unix.SECCOMP_RET_KILL_THREAD},
	} {
		if got := evalArch(t, f, tc.arch, tc.nr); got != tc.want {
			t.Errorf("%s (arch %#x nr %#x): got %#x, want %#x", tc.name, tc.arch, tc.nr, got, tc.want)
		}
	}

	// Without x32 in the filter, x32 syscalls get libseccomp's
	// bad-architecture action, not ENOSYS.
	f = compile(t, &configs.Seccomp{
		DefaultAction: configs.Errno,
		Syscalls:      []*configs.Syscall{{Name: "read", Action: configs.Allow}},
	})
	if got := evalArch(t, f, unix.AUDIT_ARCH_X86_64, x32SyscallBit|435); got != unix.SECCOMP_RET_KILL_THREAD {
		t.Errorf("x32 clone3 without x32: got %#x", got)
	}
	if got := evalArch(t, f, unix.AUDIT_ARCH_X86_64, unix.SYS_CLONE3); got != enosys {
		t.Errorf("clone3: got %#x", got)
	}
}

// Filters that allow by default, or already answer ENOSYS, get no stub:
// for the native architecture alone the program is libseccomp's.
func TestCompileNoStub(t *testing.T) {
	archs, err := resolveABIs(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*configs.Seccomp{
		{DefaultAction: configs.Allow, Syscalls: []*configs.Syscall{{Name: "getcwd", Action: configs.Errno}}},
		{DefaultAction: configs.Log, Syscalls: []*configs.Syscall{{Name: "getcwd", Action: configs.Errno}}},
		{DefaultAction: configs.Errno, DefaultErrnoRet: ptr(uint(unix.ENOSYS)), Syscalls: []*configs.Syscall{{Name: "getcwd", Action: configs.Allow}}},
		// Nothing named: nothing to compare against.
		{DefaultAction: configs.Errno},
	} {
		f := compile(t, c)
		def, err := toAction(c.DefaultAction, c.DefaultErrnoRet, "", "")
		if err != nil {
			t.Fatal(err)
		}
		rules, err := parseRules(c.Syscalls)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := buildProgram(def, archs[0], archs[0], rules)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(f.prog, plain) {
			t.Errorf("default %v: the program has %d instructions, libseccomp's %d", c.DefaultAction, len(f.prog), len(plain))
		}
	}
	// With more architectures there is a dispatcher, but no ENOSYS.
	f := compile(t, &configs.Seccomp{
		DefaultAction: configs.Allow,
		Architectures: []string{"SCMP_ARCH_X86", "SCMP_ARCH_X32"},
		Syscalls:      []*configs.Syscall{{Name: "getcwd", Action: configs.Errno}},
	})
	for _, nr := range []uint32{1000, x32SyscallBit | 1000} {
		if got := eval(t, f, uintptr(nr)); got != unix.SECCOMP_RET_ALLOW {
			t.Errorf("allow-by-default, nr %#x: got %#x", nr, got)
		}
	}
	// And a denying default does get it.
	f = compile(t, &configs.Seccomp{DefaultAction: configs.KillProcess, Syscalls: []*configs.Syscall{{Name: "getcwd", Action: configs.Allow}}})
	if got := eval(t, f, 1000); got != unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS) {
		t.Errorf("kill-by-default: nr 1000 got %#x", got)
	}
}

// buildJoint compiles c the plain way, as one libseccomp filter for all
// architectures with libseccomp's default optimization, and without the
// ENOSYS stub.
func buildJoint(t *testing.T, c *configs.Seccomp) []insn {
	t.Helper()
	def, err := toAction(c.DefaultAction, c.DefaultErrnoRet, "", "")
	if err != nil {
		t.Fatal(err)
	}
	archs, err := resolveABIs(c.Architectures)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := parseRules(c.Syscalls)
	if err != nil {
		t.Fatal(err)
	}
	f, err := libseccomp.NewFilter(def.scmp)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	for _, a := range archs[1:] {
		if err := f.AddArch(a.scmp); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range rules {
		if r.known && r.scmp.scmp != def.scmp {
			if err := addRule(f, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	prog, err := exportBPF(f)
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// The linked per-architecture programs decide every syscall as the one
// program libseccomp builds for all architectures does, except that
// numbers above the profile's get ENOSYS.
func TestCompileMatchesLibseccomp(t *testing.T) {
	if nativeAudit(t) != unix.AUDIT_ARCH_X86_64 {
		t.Skip("x86_64, x86 and x32")
	}
	c := loadProfile(t)
	joint := buildJoint(t, c)
	f := compile(t, c)
	native, err := resolveABIs(nil)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := parseRules(c.Syscalls)
	if err != nil {
		t.Fatal(err)
	}
	type abiKey struct {
		arch uint32
		x32  bool
	}
	limits := map[abiKey]uint32{}
	for _, name := range []string{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"} {
		a := abis[slices.IndexFunc(abis, func(a abi) bool { return a.name == name })]
		max, _ := abiLimit(a, native[0], rules)
		limits[abiKey{a.audit, a.x32}] = max
	}
	t.Logf("limits %v; joint program %d instructions, linked %d", limits, len(joint), f.Len())

	argSets := [][]uint64{
		{},
		{unix.CLONE_VM | unix.CLONE_THREAD},
		{unix.CLONE_NEWNS},
		{unix.AF_VSOCK},
		{8},
		{0xffffffff},
		{1, 2, 3, 4, 5, 6},
	}
	var nrs []uint32
	for nr := range uint32(520) {
		nrs = append(nrs, nr, x32SyscallBit|nr)
	}
	nrs = append(nrs, 1000, x32SyscallBit-1, 0xffffffff, negativeNr, negativeNr|x32SyscallBit, 0xbfffffff)
	enosys := unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	checked := 0
	for _, arch := range []uint32{unix.AUDIT_ARCH_X86_64, unix.AUDIT_ARCH_I386, unix.AUDIT_ARCH_AARCH64} {
		for _, nr := range nrs {
			for _, args := range argSets {
				d := seccompData{arch: arch, nr: int32(nr)}
				copy(d.args[:], args)
				want, err := runBPF(joint, d)
				if err != nil {
					t.Fatal(err)
				}
				got, err := runBPF(f.prog, d)
				if err != nil {
					t.Fatal(err)
				}
				limit, ok := limits[abiKey{arch, arch == unix.AUDIT_ARCH_X86_64 && nr&x32SyscallBit != 0}]
				if ok && nr < negativeNr && nr > limit {
					want = enosys
				}
				// Negative numbers other than -1 are garbage. With x32
				// in the filter, libseccomp's x86_64 code gives them
				// the default action; its x86_64-only program, which
				// the linked filter runs, the bad-architecture one.
				// Both deny.
				if arch == unix.AUDIT_ARCH_X86_64 && nr >= negativeNr && nr != 0xffffffff &&
					got == unix.SECCOMP_RET_KILL_THREAD && want != unix.SECCOMP_RET_ALLOW {
					want = got
				}
				if got != want {
					t.Fatalf("arch %#x nr %#x args %v: got %#x, libseccomp %#x", arch, nr, args, got, want)
				}
				checked++
			}
		}
	}
	t.Logf("%d syscalls compared", checked)
}

func TestCompileFlags(t *testing.T) {
	notify := []*configs.Syscall{{Name: "getppid", Action: configs.Notify}}
	for _, tc := range []struct {
		name  string
		flags []specs.LinuxSeccompFlag
		rules []*configs.Syscall
		want  uint32
	}{
		{"none", nil, nil, 0},
		{"tsync", []specs.LinuxSeccompFlag{FlagTSync}, nil, unix.SECCOMP_FILTER_FLAG_TSYNC},
		{"log spec", []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow},
			nil, unix.SECCOMP_FILTER_FLAG_LOG | unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW},
		{"notify", nil, notify, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER},
		{"notify tsync", []specs.LinuxSeccompFlag{FlagTSync}, notify,
			unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH},
		{"wait killable without listener", []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}, nil, 0},
		{"wait killable", []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}, notify,
			unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
		// A notify rule the library cannot resolve still gets the
		// agent its fd, so the agent does not wait forever.
		{"notify unknown syscall", nil, []*configs.Syscall{{Name: "no_such_syscall", Action: configs.Notify}}, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER},
	} {
		f := compile(t, &configs.Seccomp{DefaultAction: configs.Allow, Flags: tc.flags, Syscalls: tc.rules})
		if f.Flags() != tc.want {
			t.Errorf("%s: flags %s, want %s", tc.name, describeFlags(f.Flags()), describeFlags(tc.want))
		}
	}
}

func TestFlagSupported(t *testing.T) {
	// Every flag is older than the kernels corral supports running
	// notify on, except WAIT_KILLABLE_RECV (5.19).
	for _, f := range userFlags {
		ok, err := FlagSupported(f.name)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			t.Logf("%s is not supported by this kernel", f.name)
		}
		if f.bit != unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV && !ok {
			t.Errorf("%s: not supported", f.name)
		}
	}
	if _, err := FlagSupported("SECCOMP_FILTER_FLAG_NOPE"); err == nil {
		t.Error("unknown flag: no error")
	}
	if !kernelHasFlag(unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH) {
		t.Error("TSYNC_ESRCH: not supported")
	}
	if kernelHasFlag(1 << 30) {
		t.Error("bit 30 is supported: the probe does not probe")
	}
}

func TestFeatures(t *testing.T) {
	f := Features()
	if f.Enabled == nil || !*f.Enabled {
		t.Fatal("not enabled")
	}
	for _, want := range []struct {
		list []string
		name string
	}{
		{f.Actions, "SCMP_ACT_NOTIFY"},
		{f.Operators, "SCMP_CMP_MASKED_EQ"},
		{f.Archs, "SCMP_ARCH_X32"},
		{f.KnownFlags, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"},
		{f.SupportedFlags, "SECCOMP_FILTER_FLAG_LOG"},
	} {
		if !slices.Contains(want.list, want.name) {
			t.Errorf("%q missing from %q", want.name, want.list)
		}
	}
	if len(f.Actions) != 9 || len(f.Operators) != 7 {
		t.Errorf("%d actions, %d operators", len(f.Actions), len(f.Operators))
	}
}

func TestVersion(t *testing.T) {
	major, minor, _, err := Version()
	if err != nil || major != 2 || minor < 5 {
		t.Fatalf("libseccomp %d.%d: %v", major, minor, err)
	}
}

// A docker-like profile: ~360 syscalls allowed on x86_64, x86 and x32,
// conditional rules, names libseccomp does not know.
func TestCompileProfile(t *testing.T) {
	c := loadProfile(t)
	f := compile(t, c)
	t.Logf("%d rules -> %d instructions", len(c.Syscalls), f.Len())
	if nativeAudit(t) != unix.AUDIT_ARCH_X86_64 {
		return
	}
	eperm := unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	enosys := unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	for _, tc := range []struct {
		name string
		nr   uintptr
		args []uint64
		want uint32
	}{
		{"read", unix.SYS_READ, nil, unix.SECCOMP_RET_ALLOW},
		{"openat2", unix.SYS_OPENAT2, nil, unix.SECCOMP_RET_ALLOW},
		{"mount", unix.SYS_MOUNT, nil, eperm},
		{"ptrace", unix.SYS_PTRACE, nil, eperm},
		{"clone3", unix.SYS_CLONE3, nil, enosys},
		{"clone thread", unix.SYS_CLONE, []uint64{unix.CLONE_VM | unix.CLONE_THREAD}, unix.SECCOMP_RET_ALLOW},
		{"clone newns", unix.SYS_CLONE, []uint64{unix.CLONE_NEWNS}, eperm},
		{"socket inet", unix.SYS_SOCKET, []uint64{unix.AF_INET}, unix.SECCOMP_RET_ALLOW},
		{"socket vsock", unix.SYS_SOCKET, []uint64{unix.AF_VSOCK}, eperm},
		{"personality 8", unix.SYS_PERSONALITY, []uint64{8}, unix.SECCOMP_RET_ALLOW},
		{"personality 1", unix.SYS_PERSONALITY, []uint64{1}, eperm},
		// Newer than every name, or unknown to libseccomp: ENOSYS;
		// older but not named: the default.
		{"1000", 1000, nil, enosys},
		{"set_mempolicy_home_node", 450, nil, eperm},
	} {
		if got := eval(t, f, tc.nr, tc.args...); got != tc.want {
			t.Errorf("%s: got %#x, want %#x", tc.name, got, tc.want)
		}
	}
}

// The profile allows mseal (462), which libseccomp 2.5.4 does not know:
// the rule is skipped, and the syscall gets ENOSYS, so a libc treats it
// as absent.
func TestCompileProfileUnknownName(t *testing.T) {
	if _, err := libseccomp.GetSyscallFromName("mseal"); err == nil {
		t.Skip("this libseccomp knows mseal")
	}
	if nativeAudit(t) != unix.AUDIT_ARCH_X86_64 {
		t.Skip("x86_64 numbers")
	}
	f := compile(t, loadProfile(t))
	if got := eval(t, f, 462); got != unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS) {
		t.Errorf("mseal: got %#x", got)
	}
}

// BenchmarkCompile compiles the docker-like profile: ~360 syscalls
// allowed, default ERRNO, for the architectures docker lists on x86_64,
// and for the native one alone.
func BenchmarkCompile(b *testing.B) {
	for _, bc := range []struct {
		name  string
		archs []string
	}{
		{"profile-archs", nil},
		{"native", []string{}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := loadProfile(b)
			if bc.archs != nil {
				c.Architectures = bc.archs
			}
			var n int
			for b.Loop() {
				f, err := Compile(c)
				if err != nil {
					b.Fatal(err)
				}
				n = f.Len()
			}
			b.ReportMetric(float64(n), "insns")
		})
	}
}
