package security

import (
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"
)

// capRootfs is a rootfs with /capbin/cat, a copy of busybox (so run as
// cat) whose file capabilities are inheritable: all, effective. Exec'd
// by a process, it gains in permitted and effective whatever that
// process has in its inheritable set. With an empty inheritable set it
// gains nothing; that is the defence under test.
func capRootfs(t *testing.T) string {
	t.Helper()
	rootfs := newRootfs(t)
	cat := filepath.Join(rootfs, "capbin", "cat")
	copyFile(t, filepath.Join(rootfs, "bin", "busybox"), cat, 0o755)
	// struct vfs_cap_data, VFS_CAP_REVISION_2: magic_etc, then permitted
	// and inheritable of the low and high 32 capabilities.
	var caps []byte
	caps = binary.LittleEndian.AppendUint32(caps, 0x02000000|0x1) // revision 2, effective
	caps = binary.LittleEndian.AppendUint32(caps, 0)              // permitted, low
	caps = binary.LittleEndian.AppendUint32(caps, 0xffffffff)     // inheritable, low
	caps = binary.LittleEndian.AppendUint32(caps, 0)              // permitted, high
	caps = binary.LittleEndian.AppendUint32(caps, 0x000001ff)     // inheritable, high
	if err := unix.Setxattr(cat, "security.capability", caps, 0); err != nil {
		t.Fatalf("set file capabilities: %v", err)
	}
	return rootfs
}

// TestCVE_2022_29162_InheritableCapabilities: CVE-2022-29162 (runc exec
// gave processes a non-empty inheritable set, so a non-root user in the
// container exec'ing a program with inheritable file capabilities gained
// them). For init and exec'd processes, as root and as a user: CapInh is
// empty unless the config asks, and a user's exec of /capbin/cat (file
// capabilities inheritable=all, effective) gains nothing.
func TestCVE_2022_29162_InheritableCapabilities(t *testing.T) {
	guardMounts(t)
	rootfs := capRootfs(t)
	cfg := newConfig(t, rootfs)
	status := []string{"/capbin/cat", "/proc/self/status"}
	asUser := func(p *libcontainer.Process) { p.User = "1000:1000" }

	check := func(who, out, wantInh, wantEff string) {
		t.Helper()
		if got := statusField(out, "CapInh"); got != wantInh {
			t.Errorf("%s: CapInh = %s, want %s", who, got, wantInh)
		}
		if got := statusField(out, "CapEff"); got != wantEff {
			t.Errorf("%s: CapEff = %s, want %s (gained through the file's inheritable capabilities)", who, got, wantEff)
		}
	}
	const none = "0000000000000000"
	check("init as root", mustRun(t, cfg, []string{"cat", "/proc/self/status"}), none, "00000000a80425fb")
	check("init as user 1000", mustRun(t, cfg, status, asUser), none, none)

	c, _, _ := startScript(t, cfg, "sleep 1000")
	out, code, err := execIn(t, c, []string{"cat", "/proc/self/status"})
	if err != nil || code != 0 {
		t.Fatalf("exec: %d %v %s", code, err, out)
	}
	check("exec as root", out, none, "00000000a80425fb")
	out, code, err = execIn(t, c, status, asUser)
	if err != nil || code != 0 {
		t.Fatalf("exec: %d %v %s", code, err, out)
	}
	check("exec as user 1000", out, none, none)
	// Per-process capabilities of an exec replace the container's: still
	// no inheritable set unless named.
	out, code, err = execIn(t, c, status, asUser, func(p *libcontainer.Process) {
		p.Capabilities = &configs.Capabilities{Bounding: defaultCaps, Effective: defaultCaps, Permitted: defaultCaps}
	})
	if err != nil || code != 0 {
		t.Fatalf("exec: %d %v %s", code, err, out)
	}
	check("exec as user 1000 with its own capabilities", out, none, none)

	// The control: asked for, the inheritable capability is there and
	// the file grants it. Without this the test would prove nothing.
	asked := newConfig(t, rootfs)
	asked.Capabilities.Inheritable = []string{"CAP_NET_BIND_SERVICE"}
	check("init as user 1000 asking for inheritable CAP_NET_BIND_SERVICE", mustRun(t, asked, status, asUser),
		"0000000000000400", "0000000000000400")
}

// TestCVE_2022_29162_NoAmbientForUser: a user's process with no ambient
// capabilities asked for ends up with none effective after its exec,
// even though the config gives the container root's usual set.
func TestCVE_2022_29162_NoAmbientForUser(t *testing.T) {
	guardMounts(t)
	out := sh(t, newConfig(t, busybox), "cat /proc/self/status", func(p *libcontainer.Process) { p.User = "1000" })
	for _, f := range []string{"CapInh", "CapPrm", "CapEff", "CapAmb"} {
		if got := statusField(out, f); got != "0000000000000000" {
			t.Errorf("%s = %s for user 1000, want none", f, got)
		}
	}
	if !strings.Contains(out, "Uid:\t1000") {
		t.Errorf("not running as user 1000:\n%s", out)
	}
}
