//go:build !linux || !cgo

package seccomp

import (
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// Compile needs libseccomp, which needs cgo on Linux.
func Compile(*configs.Seccomp) (*Filter, error) { return nil, ErrNotSupported }

// InitSeccomp loads nothing for a nil profile and fails otherwise: this
// build cannot compile filters.
func InitSeccomp(c *configs.Seccomp) (int, error) {
	if c == nil {
		return -1, nil
	}
	return -1, ErrNotSupported
}

// Version fails: this build has no libseccomp.
func Version() (major, minor, micro uint, err error) { return 0, 0, 0, ErrNotSupported }

// Features reports that seccomp is not supported.
func Features() *features.Seccomp {
	enabled := false
	return &features.Seccomp{Enabled: &enabled}
}
