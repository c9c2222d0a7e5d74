package lib

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"
)

// TestTmpfsMode: a tmpfs without mode= takes the mode of its mount point,
// setuid, setgid and sticky bits included, as runc's does; one made for
// it has tmpfs's 1777; an explicit mode= is what it gets (runc 1.1.5
// overrides it with the mount point's).
func TestTmpfsMode(t *testing.T) {
	rootfs := newRootfs(t)
	for dir, mode := range map[string]os.FileMode{"t1": 0o6751 | os.ModeSetuid | os.ModeSetgid, "t2": 0o755 | os.ModeSticky} {
		p := filepath.Join(rootfs, dir)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	cfg := newConfig(t, rootfs)
	cfg.Mounts = append(cfg.Mounts,
		&configs.Mount{Source: "tmpfs", Destination: "/t1", Device: "tmpfs"},
		&configs.Mount{Source: "tmpfs", Destination: "/t2", Device: "tmpfs", Data: "mode=700"},
		&configs.Mount{Source: "tmpfs", Destination: "/t3", Device: "tmpfs"})
	out := sh(t, cfg, "stat -c '%n %a' /t1 /t2 /t3")
	if want := "/t1 6751\n/t2 700\n/t3 1777\n"; out != want {
		t.Fatalf("modes:\n%s\nwant:\n%s", out, want)
	}
}

// TestReadonlyDev: a read-only /dev is filled first (device nodes, the
// /dev/pts mount point, symlinks, the console's mount point), then made
// read-only: the mount only, as runc does, not the tmpfs.
func TestReadonlyDev(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.Mounts[1].Flags |= unix.MS_RDONLY
	parent, child, err := socketpair()
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	defer child.Close()
	c, err := libcontainer.Create(t.TempDir(), randomID(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	p := &libcontainer.Process{Args: []string{"/bin/sh", "-c",
		"ls /dev | tr '\\n' ' '; echo; grep ' /dev ' /proc/self/mountinfo | cut -d' ' -f6; " +
			"grep ' /dev ' /proc/self/mountinfo | sed 's/.* - //'; touch /dev/x 2>&1; tty"},
		Env: []string{"PATH=/bin"}, ConsoleSocket: child, Init: true}
	if err := c.Start(p); err != nil {
		t.Fatal(err)
	}
	master, err := recvFile(parent)
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	var out strings.Builder
	done := make(chan struct{})
	go func() { io.Copy(&out, master); close(done) }()
	if err := c.Exec(); err != nil {
		t.Fatal(err)
	}
	p.Wait()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	got := strings.ReplaceAll(out.String(), "\r", "")
	for _, want := range []string{"console ", "null ", "pts ", "ptmx ", "stdout ", "\nro,nosuid\ntmpfs tmpfs rw,", "/dev/x: Read-only file system", "/dev/pts/0"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

// TestMaskedOnceAndShared: a path listed twice (however spelled) is
// masked once, and every masked directory is the same read-only tmpfs.
func TestMaskedOnceAndShared(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.MaskPaths = append(cfg.MaskPaths, "/mnt", "//mnt/", "/home", "/etc/hostname", "/etc/hostname", "/no/such/path")
	out := sh(t, cfg, `grep -cE ' /mnt | /etc/hostname ' /proc/self/mountinfo; stat -c %d /mnt /home /sys/firmware | sort -u | wc -l; `+
		`touch /mnt/x 2>&1 | grep -o 'Read-only file system'; cat /etc/hostname | wc -c`)
	if want := "2\n1\nRead-only file system\n0\n"; out != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
}

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
