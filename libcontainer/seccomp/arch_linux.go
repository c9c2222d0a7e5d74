//go:build linux && cgo

package seccomp

import (
	"fmt"
	"slices"

	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// abi is one architecture a filter covers.
type abi struct {
	name  string // OCI spelling
	scmp  libseccomp.ScmpArch
	audit uint32 // AUDIT_ARCH_*, what the kernel puts in seccomp_data.arch
	x32   bool
}

// abis are the OCI architecture names. The audit values come from the
// kernel's uapi (libseccomp's SCMP_ARCH_* are the same numbers); the ENOSYS
// stub compares seccomp_data.arch against them.
var abis = []abi{
	{"SCMP_ARCH_X86", libseccomp.ArchX86, unix.AUDIT_ARCH_I386, false},
	{"SCMP_ARCH_X86_64", libseccomp.ArchAMD64, unix.AUDIT_ARCH_X86_64, false},
	{"SCMP_ARCH_X32", libseccomp.ArchX32, unix.AUDIT_ARCH_X86_64, true},
	{"SCMP_ARCH_ARM", libseccomp.ArchARM, unix.AUDIT_ARCH_ARM, false},
	{"SCMP_ARCH_AARCH64", libseccomp.ArchARM64, unix.AUDIT_ARCH_AARCH64, false},
	{"SCMP_ARCH_MIPS", libseccomp.ArchMIPS, unix.AUDIT_ARCH_MIPS, false},
	{"SCMP_ARCH_MIPS64", libseccomp.ArchMIPS64, unix.AUDIT_ARCH_MIPS64, false},
	{"SCMP_ARCH_MIPS64N32", libseccomp.ArchMIPS64N32, unix.AUDIT_ARCH_MIPS64N32, false},
	{"SCMP_ARCH_MIPSEL", libseccomp.ArchMIPSEL, unix.AUDIT_ARCH_MIPSEL, false},
	{"SCMP_ARCH_MIPSEL64", libseccomp.ArchMIPSEL64, unix.AUDIT_ARCH_MIPSEL64, false},
	{"SCMP_ARCH_MIPSEL64N32", libseccomp.ArchMIPSEL64N32, unix.AUDIT_ARCH_MIPSEL64N32, false},
	{"SCMP_ARCH_PPC", libseccomp.ArchPPC, unix.AUDIT_ARCH_PPC, false},
	{"SCMP_ARCH_PPC64", libseccomp.ArchPPC64, unix.AUDIT_ARCH_PPC64, false},
	{"SCMP_ARCH_PPC64LE", libseccomp.ArchPPC64LE, unix.AUDIT_ARCH_PPC64LE, false},
	{"SCMP_ARCH_S390", libseccomp.ArchS390, unix.AUDIT_ARCH_S390, false},
	{"SCMP_ARCH_S390X", libseccomp.ArchS390X, unix.AUDIT_ARCH_S390X, false},
	{"SCMP_ARCH_PARISC", libseccomp.ArchPARISC, unix.AUDIT_ARCH_PARISC, false},
	{"SCMP_ARCH_PARISC64", libseccomp.ArchPARISC64, unix.AUDIT_ARCH_PARISC64, false},
	{"SCMP_ARCH_RISCV64", libseccomp.ArchRISCV64, unix.AUDIT_ARCH_RISCV64, false},
	{"SCMP_ARCH_LOONGARCH64", libseccomp.ArchLOONGARCH64, unix.AUDIT_ARCH_LOONGARCH64, false},
	{"SCMP_ARCH_M68K", libseccomp.ArchM68K, unix.AUDIT_ARCH_M68K, false},
	{"SCMP_ARCH_SH", libseccomp.ArchSH, unix.AUDIT_ARCH_SHEL, false},
	{"SCMP_ARCH_SHEB", libseccomp.ArchSHEB, unix.AUDIT_ARCH_SH, false},
}

// resolveABIs returns the native architecture followed by the ones names
// adds, each once. The native one comes first because the ENOSYS stub
// tests architectures in order and nearly every syscall is native.
func resolveABIs(names []string) ([]abi, error) {
	nat, err := libseccomp.GetNativeArch()
	if err != nil {
		return nil, fmt.Errorf("seccomp: native architecture: %w", err)
	}
	i := slices.IndexFunc(abis, func(a abi) bool { return a.scmp == nat })
	if i < 0 {
		return nil, fmt.Errorf("seccomp: native architecture %v is not supported", nat)
	}
	out := []abi{abis[i]}
	for j, n := range names {
		i := slices.IndexFunc(abis, func(a abi) bool { return a.name == n })
		if i < 0 {
			return nil, fmt.Errorf("seccomp.architectures[%d]: unknown architecture %q", j, n)
		}
		if !slices.ContainsFunc(out, func(a abi) bool { return a.scmp == abis[i].scmp }) {
			out = append(out, abis[i])
		}
	}
	return out, nil
}
