// Package label handles the SELinux labels of a container: the label its
// process execs into, the label of its mounts, and the security options
// engines pass around.
//
// Options are in the form "user:…", "role:…", "type:…", "level:…",
// "filetype:…" or "disable", with no "label=" prefix; DupSecOpt and
// DisableSecOpt return them in that same form.
package label

import (
	"fmt"

	"github.com/opencontainers/selinux/go-selinux"
	"github.com/opencontainers/selinux/go-selinux/label"
)

// Enabled reports whether SELinux is enabled on the host.
func Enabled() bool { return selinux.GetEnabled() }

// Check refuses a process label on a host without SELinux, in runc's
// words, in the runtime, where the host's selinuxfs is visible. runc
// refuses it too: it would not confine anything.
func Check(processLabel string) error {
	if processLabel != "" && !Enabled() {
		return fmt.Errorf("process.selinuxLabel %q: selinux label is specified in config, but selinux is disabled or not supported", processLabel)
	}
	return nil
}

// InitLabels returns the process and mount labels for a container with
// the given options, or empty labels where SELinux is disabled.
func InitLabels(options []string) (processLabel, mountLabel string, err error) {
	return label.InitLabels(options)
}

// DupSecOpt returns the options that give future containers the type and
// level of the process label src.
func DupSecOpt(src string) ([]string, error) {
	return selinux.DupSecOpt(src)
}

// DisableSecOpt returns the option that disables SELinux labelling of a
// container.
func DisableSecOpt() []string {
	return selinux.DisableSecOpt()
}

// FormatMountLabel adds the mount label to a mount's data, for
// filesystems mounted in the container. Without SELinux it returns data
// as is.
func FormatMountLabel(data, mountLabel string) string {
	if !Enabled() {
		return data
	}
	return label.FormatMountLabel(data, mountLabel)
}

// SetProcessLabel makes the calling thread exec into processLabel. The
// caller must be locked to its OS thread and exec from it. It does not
// check Enabled, which reads the host's mounts: a container's init cannot
// see selinuxfs; the runtime checks first (Check).
func SetProcessLabel(processLabel string) error {
	if processLabel == "" {
		return nil
	}
	if err := selinux.SetExecLabel(processLabel); err != nil {
		return fmt.Errorf("selinux label %q: %w", processLabel, err)
	}
	return nil
}
