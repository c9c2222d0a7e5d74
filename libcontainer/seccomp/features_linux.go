//go:build linux && cgo

package seccomp

import (
	"github.com/opencontainers/runtime-spec/specs-go/features"

	libseccomp "github.com/seccomp/libseccomp-golang"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// Features reports what this build and the running kernel support, for
// the runtime's `features` command: every action and operator, the
// architectures libseccomp can add, the flags this package knows and
// those the kernel accepts.
func Features() *features.Seccomp {
	enabled := true
	out := &features.Seccomp{Enabled: &enabled}
	for a := configs.Kill; a <= configs.KillProcess; a++ {
		out.Actions = append(out.Actions, a.String())
	}
	for o := configs.EqualTo; o <= configs.MaskEqualTo; o++ {
		out.Operators = append(out.Operators, o.String())
	}
	// Asking libseccomp is the only way to learn which architectures
	// this version of it has.
	if f, err := libseccomp.NewFilter(libseccomp.ActAllow); err == nil {
		for _, a := range abis {
			if f.AddArch(a.scmp) == nil {
				out.Archs = append(out.Archs, a.name)
			}
		}
		f.Release()
	}
	for _, f := range userFlags {
		out.KnownFlags = append(out.KnownFlags, string(f.name))
		if kernelHasFlag(f.bit) {
			out.SupportedFlags = append(out.SupportedFlags, string(f.name))
		}
	}
	return out
}
