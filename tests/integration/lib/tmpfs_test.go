package lib

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// TestDanglingSymlinkDestinations: a destination that is, or passes
// through, a symlink to something missing is followed inside the rootfs
// and what it names is made, a directory or a file as the mount needs, as
// runc does.
func TestDanglingSymlinkDestinations(t *testing.T) {
	rootfs := newRootfs(t)
	for link, target := range map[string]string{"d1": "/x1", "d2": "../../x2", "d3": "x3", "d4": "/nonexist/deeper/x4"} {
		if err := os.Symlink(target, filepath.Join(rootfs, link)); err != nil {
			t.Fatal(err)
		}
	}
	hostFile := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(hostFile, []byte("file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := newConfig(t, rootfs)
	cfg.Mounts = append(cfg.Mounts,
		&configs.Mount{Source: "tmpfs", Destination: "/d1", Device: "tmpfs"},
		&configs.Mount{Source: "tmpfs", Destination: "/d2/sub", Device: "tmpfs"},
		&configs.Mount{Source: hostFile, Destination: "/d3", Device: "bind", Flags: unix.MS_BIND},
		&configs.Mount{Source: "tmpfs", Destination: "/d4", Device: "tmpfs"})
	out := sh(t, cfg, `cat /x3; for m in /x1 /x2/sub /x3 /nonexist/deeper/x4; do grep -c " $m " /proc/self/mountinfo; done`)
	if want := "file\n1\n1\n1\n1\n"; out != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
	for _, p := range []string{"x1", "x2/sub", "x3", "nonexist/deeper/x4"} {
		if _, err := os.Stat(filepath.Join(rootfs, p)); err != nil {
			t.Errorf("%s not made in the rootfs: %v", p, err)
		}
	}
}
