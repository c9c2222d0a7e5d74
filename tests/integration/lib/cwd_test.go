package lib

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"
)

// init's working directory is made when the rootfs lacks it, as runc
// makes it (Kubernetes' workingDir need not exist in the image): after
// the mounts, here in a tmpfs on /tmp, and before the rootfs is made
// read-only; root's, mode 0755.
func TestMissingCwdIsMade(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.Readonlyfs = true
	cfg.Mounts = append(cfg.Mounts, &configs.Mount{
		Source: "tmpfs", Destination: "/tmp", Device: "tmpfs",
		Flags: unix.MS_NOSUID | unix.MS_NODEV,
	})
	out := sh(t, cfg, `pwd; stat -c '%a %u %g' . ..; grep ' / ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1`, func(p *libcontainer.Process) {
		p.Cwd = "/tmp/work/dir"
	})
	if want := "/tmp/work/dir\n755 0 0\n755 0 0\nro\n"; out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}
