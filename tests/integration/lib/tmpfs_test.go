package lib

import (
	"fmt"
	"io"
	"os"
	"os/exec"
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

// TestTmpCopyUp: the tmpcopyup option (podman's --tmpfs) fills the tmpfs
// with what its mount point has in the image: files, directories,
// symlinks, hard links and special files, with owner, mode and times.
func TestTmpCopyUp(t *testing.T) {
	rootfs := newRootfs(t)
	cu := filepath.Join(rootfs, "cu")
	script := fmt.Sprintf(`set -e; cd %s; mkdir -p d; echo hi > f; ln f h; chown 5:6 f; chmod 4711 f
ln -s ../etc l; chown -h 3:3 l; echo x > d/y; mkfifo p; mknod null c 1 3
mkdir e; chmod 1703 e; chmod 2750 .`, cu)
	if err := os.Mkdir(cu, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("sh", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("prepare: %v: %s", err, out)
	}
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(cu, "d"), old, old); err != nil {
		t.Fatal(err)
	}
	cfg := newConfig(t, rootfs)
	cfg.Mounts = append(cfg.Mounts, &configs.Mount{Source: "tmpfs", Destination: "/cu", Device: "tmpfs", Data: "size=1m", TmpCopyUp: true})
	out := sh(t, cfg, `cd /cu; stat -c '%n %a %u:%g %h %F' . d d/y e f h l null p; readlink l; cat f d/y; `+
		`stat -c %Y d; [ "$(stat -c %i f)" = "$(stat -c %i h)" ] && echo linked; grep ' /cu ' /proc/self/mountinfo | sed 's/.* - //' | cut -d' ' -f1`)
	want := `. 2750 0:0 4 directory
d 755 0:0 2 directory
d/y 644 0:0 1 regular file
e 1703 0:0 2 directory
f 4711 5:6 2 regular file
h 4711 5:6 2 regular file
l 777 3:3 1 symbolic link
null 644 0:0 1 character special file
p 644 0:0 1 fifo
../etc
hi
x
978307200
linked
tmpfs
`
	if out != want {
		t.Fatalf("/cu:\n%s\nwant:\n%s", out, want)
	}
	// The image is untouched.
	if b, err := os.ReadFile(filepath.Join(cu, "f")); err != nil || string(b) != "hi\n" {
		t.Fatalf("the image's /cu/f: %q %v", b, err)
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
