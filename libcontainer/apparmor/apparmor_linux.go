// Package apparmor confines a container's process to an AppArmor profile
// at its exec. The profile is set through a verified procfs handle of the
// calling thread, so a /proc mounted or faked by the container cannot
// swallow the write (CVE-2019-16884, CVE-2025-52881).
package apparmor

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/corral-oci/corral/libcontainer/internal/procfs"
)

// ErrNotEnabled is returned when a profile is asked for on a host without
// AppArmor.
var ErrNotEnabled = errors.New("AppArmor is not enabled on this host")

var enabled = sync.OnceValue(func() bool {
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	if err != nil || len(b) == 0 || b[0] != 'Y' {
		return false
	}
	_, err = os.Stat("/sys/kernel/security/apparmor")
	return err == nil
})

// IsEnabled reports whether the host enforces AppArmor.
func IsEnabled() bool { return enabled() }

// Check refuses a profile on a host without AppArmor, in the runtime,
// where the host's securityfs is visible.
func Check(profile string) error {
	if profile != "" && !IsEnabled() {
		return fmt.Errorf("process.apparmorProfile %q: %w", profile, ErrNotEnabled)
	}
	return nil
}

// ApplyProfile makes the calling thread change to profile at its next
// exec. The caller must be locked to its OS thread and exec from it. It
// does not check IsEnabled, which reads the host's securityfs: a
// container's init cannot see it; the runtime checks first (Check).
func ApplyProfile(profile string) error {
	if profile == "" {
		return nil
	}
	data := []byte("exec " + profile)
	// Kernels since 5.8 have an AppArmor-specific attr directory, which
	// stays right when another LSM also uses attr/exec.
	err := procfs.WriteThreadSelf("attr/apparmor/exec", data)
	if errors.Is(err, os.ErrNotExist) {
		err = procfs.WriteThreadSelf("attr/exec", data)
	}
	if err != nil {
		return fmt.Errorf("apparmor profile %q: %w", profile, err)
	}
	return nil
}
