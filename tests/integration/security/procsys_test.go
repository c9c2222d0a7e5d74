package security

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// checkKernelFS runs a probe in a container started from cfg and fails the
// test unless /proc is a real procfs directory with the masked paths
// masked and /sys a real sysfs directory: what a mount over them, or a
// symlink in their place, would change.
func checkKernelFS(t *testing.T, cfg *configs.Config) {
	t.Helper()
	out := sh(t, cfg, `for d in /proc /sys; do [ -L $d ] && echo "$d symlink"; echo "$d $(stat -f -c %T $d)"; done; `+
		`echo "keys $(stat -c %t:%T /proc/keys 2>&1) $(cat /proc/keys 2>/dev/null | wc -c)"`)
	for _, want := range []string{"/proc proc\n", "/sys sysfs\n", "keys 1:3 0\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("the container's kernel filesystems are not what the runtime set up (want %q):\n%s", want, out)
		}
	}
	if strings.Contains(out, "symlink") {
		t.Errorf("/proc or /sys is a symlink in the container:\n%s", out)
	}
}

// TestCVE_2019_16884_MountOverProc: CVE-2019-16884 (a volume mounted over
// /proc hides procfs, and with it the LSM files the runtime writes and
// the paths it masks). A config that mounts anything but procfs on /proc,
// however the destination is spelled, or anything but sysfs (or the
// host's /sys) on /sys, is refused with an error naming the path.
func TestCVE_2019_16884_MountOverProc(t *testing.T) {
	guardMounts(t)
	hostDir := t.TempDir()
	for _, tt := range []struct {
		name string
		m    configs.Mount
		want string
	}{
		{"tmpfs on /proc", configs.Mount{Source: "tmpfs", Destination: "/proc", Device: "tmpfs"}, "/proc"},
		{"bind on /proc", configs.Mount{Source: hostDir, Destination: "/proc", Device: "bind", Flags: unix.MS_BIND}, "/proc"},
		{"bind on /proc/", configs.Mount{Source: hostDir, Destination: "/proc/", Device: "bind", Flags: unix.MS_BIND}, "/proc"},
		{"bind on //proc/.", configs.Mount{Source: hostDir, Destination: "//proc/.", Device: "bind", Flags: unix.MS_BIND}, "/proc"},
		{"bind on /tmp/../proc", configs.Mount{Source: hostDir, Destination: "/tmp/../proc", Device: "bind", Flags: unix.MS_BIND}, "/proc"},
		{"bind on /proc/self", configs.Mount{Source: hostDir, Destination: "/proc/self", Device: "bind", Flags: unix.MS_BIND}, "/proc"},
		{"bind on /proc/sys", configs.Mount{Source: hostDir, Destination: "/proc/sys", Device: "bind", Flags: unix.MS_BIND | unix.MS_REC}, "/proc"},
		{"tmpfs on /sys", configs.Mount{Source: "tmpfs", Destination: "/sys", Device: "tmpfs"}, "/sys"},
		{"bind on /sys", configs.Mount{Source: hostDir, Destination: "/sys", Device: "bind", Flags: unix.MS_BIND}, "/sys"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := newConfig(t, busybox)
			m := tt.m
			cfg.Mounts = append(cfg.Mounts, &m)
			_, err := run(t, cfg, []string{"true"})
			if err == nil {
				t.Fatalf("a config with %s was accepted and started", tt.name)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("the error does not name %s: %v", tt.want, err)
			}
			t.Logf("refused: %v", err)
		})
	}
}

// TestCVE_2019_16884_MountOverProcThroughImageSymlink is CVE-2019-16884
// as it was exploited: the config's volume has an innocent destination,
// /vol, but the image makes /vol a symlink to /proc, so that the mount,
// resolved inside the rootfs, covers procfs. The start must be refused,
// or /proc must still be procfs with its masks.
func TestCVE_2019_16884_MountOverProcThroughImageSymlink(t *testing.T) {
	guardMounts(t)
	hostDir := t.TempDir()
	for _, tt := range []struct {
		name, link string
		m          configs.Mount
	}{
		{"tmpfs via absolute symlink", "/proc", configs.Mount{Source: "tmpfs", Destination: "/vol", Device: "tmpfs"}},
		{"bind via relative symlink", "../../proc", configs.Mount{Source: hostDir, Destination: "/vol", Device: "bind", Flags: unix.MS_BIND}},
		{"tmpfs via symlink to /sys", "/sys", configs.Mount{Source: "tmpfs", Destination: "/vol", Device: "tmpfs"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rootfs := newRootfs(t)
			if err := os.Symlink(tt.link, filepath.Join(rootfs, "vol")); err != nil {
				t.Fatal(err)
			}
			cfg := newConfig(t, rootfs)
			m := tt.m
			cfg.Mounts = append(cfg.Mounts, &m)
			if _, err := run(t, cfg, []string{"true"}); err != nil {
				t.Logf("refused: %v", err)
				if !strings.Contains(err.Error(), "/proc") && !strings.Contains(err.Error(), "/sys") {
					t.Errorf("the error does not name /proc or /sys: %v", err)
				}
				return
			}
			checkKernelFS(t, cfg)
		})
	}
}

// TestCVE_2023_27561_ProcOrSysSymlinkInImage: CVE-2023-27561 and
// CVE-2023-28642 (the image makes /proc a symlink, so procfs is mounted
// where the image chose and the runtime's writes to /proc/self/attr go to
// files the image controls). An image whose /proc or /sys is a symlink,
// to a directory of the image or to a host-looking path, or is not a
// directory, is refused with an error naming it.
func TestCVE_2023_27561_ProcOrSysSymlinkInImage(t *testing.T) {
	guardMounts(t)
	for _, tt := range []struct {
		name, path, link, want string
	}{
		{"/proc to /tmp", "proc", "/tmp", "/proc is a symlink"},
		{"/proc to /etc", "proc", "/etc", "/proc is a symlink"},
		{"/proc relative", "proc", "../../../tmp", "/proc is a symlink"},
		{"/sys to /tmp", "sys", "/tmp", "/sys is a symlink"},
		{"/sys to /sys/..", "sys", "/sys/..", "/sys is a symlink"},
		{"/proc a file", "proc", "", "/proc is not a directory"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rootfs := newRootfs(t)
			p := filepath.Join(rootfs, tt.path)
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			var err error
			if tt.link == "" {
				err = os.WriteFile(p, []byte("not procfs\n"), 0o644)
			} else {
				err = os.Symlink(tt.link, p)
			}
			if err != nil {
				t.Fatal(err)
			}
			etcBefore := listDir(t, filepath.Join(rootfs, "etc"))
			_, err = run(t, newConfig(t, rootfs), []string{"true"})
			if err == nil {
				t.Fatalf("an image whose /%s is %q started", tt.path, tt.link)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("the error does not say %q: %v", tt.want, err)
			}
			if d := itest.Diff(etcBefore, listDir(t, filepath.Join(rootfs, "etc"))); d != "" {
				t.Errorf("the refused start created in the image's /etc: %s", d)
			}
		})
	}
}

// listDir lists the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}
