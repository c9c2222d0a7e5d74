package security

import (
	"strings"
	"testing"
)

// nestedMounts tries, from a process of the container, what a nested
// container engine does: a user namespace of its own (with a pid or a
// network namespace) and a new procfs or sysfs in it. The kernel allows
// that only where an instance is already fully visible, without masks
// (mount_too_revealing).
const nestedMounts = `unshare -Ur sh -c 'echo USERNS-OK' 2>&1; ` +
	`unshare -Urmpf sh -c 'mount -t proc proc /mnt && echo PROC-MOUNTED && ls /mnt/keys /mnt/sys/kernel/core_pattern' 2>&1; ` +
	`unshare -Urmn sh -c 'mount -t sysfs sysfs /mnt && echo SYS-MOUNTED && ls -d /mnt/firmware/*' 2>&1; true`

// TestNoPivotHostKernelFSHidden: issue 17 (6). With --no-pivot the rootfs
// is moved over the old root instead of replacing it, and the host's
// mounts stay in the container's mount namespace, under it. The host's
// procfs and sysfs there are fully visible instances, so a process of the
// container could make, in a user namespace of its own, a procfs and a
// sysfs without the container's masks and read-only paths (an unmasked
// /proc/keys, a writable sys/kernel/core_pattern for a root mapped to the
// host's). They must be hidden, as runc hides them, so the kernel refuses
// those mounts as it does in a container that pivoted.
func TestNoPivotHostKernelFSHidden(t *testing.T) {
	guardMounts(t)
	for _, noPivot := range []bool{false, true} {
		name := map[bool]string{false: "pivot_root", true: "no-pivot"}[noPivot]
		t.Run(name, func(t *testing.T) {
			cfg := newConfig(t, busybox)
			cfg.NoPivotRoot = noPivot
			out := sh(t, cfg, nestedMounts)
			if !strings.Contains(out, "USERNS-OK") {
				t.Skipf("this machine does not let a container's process make a user namespace, the attack cannot be tried:\n%s", out)
			}
			for _, fs := range []string{"PROC", "SYS"} {
				if strings.Contains(out, fs+"-MOUNTED") {
					t.Errorf("%s container: a process in a user namespace of its own mounted a new %s, without the container's masks:\n%s",
						name, map[string]string{"PROC": "procfs", "SYS": "sysfs"}[fs], out)
				}
			}
		})
	}
}

// TestNoPivotUserNamespace: the host's kernel filesystems are locked in a
// container's own user namespace, where they cannot be unmounted: they
// are covered, and the container starts.
func TestNoPivotUserNamespace(t *testing.T) {
	guardMounts(t)
	cfg := newConfig(t, busybox)
	cfg.NoPivotRoot = true
	userns(cfg)
	out := sh(t, cfg, nestedMounts)
	if strings.Contains(out, "PROC-MOUNTED") || strings.Contains(out, "SYS-MOUNTED") {
		t.Errorf("a process of a --no-pivot container in a user namespace mounted a new procfs or sysfs:\n%s", out)
	}
}
