package security

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

const corePattern = "/proc/sys/kernel/core_pattern"

// guardCorePattern fails the test if the host's core_pattern (global:
// whoever writes it runs code as root on the host's next crash) changes,
// and puts it back.
func guardCorePattern(t *testing.T) {
	t.Helper()
	before, err := os.ReadFile(corePattern)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if now, _ := os.ReadFile(corePattern); string(now) != string(before) {
			t.Errorf("the host's core_pattern changed from %q to %q", before, now)
			os.WriteFile(corePattern, before, 0)
		}
	})
}

// imageTarget is a file of the image that a planted symlink points at.
const imageTarget = "/etc/target"

func plantTarget(t *testing.T, rootfs string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(rootfs, imageTarget), []byte("image file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func checkTarget(t *testing.T, rootfs string) {
	t.Helper()
	if got := readFile(filepath.Join(rootfs, imageTarget)); got != "image file\n" {
		t.Errorf("the image's %s, a planted symlink's target, changed: %q", imageTarget, got)
	}
}

// noDevTmpfs is a config that uses the image's /dev, with or without the
// device nodes.
func noDevTmpfs(t *testing.T, rootfs string, devices bool) *configs.Config {
	t.Helper()
	cfg := newConfig(t, rootfs)
	removeMount(cfg, "/dev")
	if !devices {
		cfg.Devices = nil
	}
	return cfg
}

// maskProbe checks the masked files from inside: each must be the null
// device, read empty, and swallow a write.
const maskProbe = `for p in /proc/keys /proc/timer_list; do ` +
	`if [ -c $p ]; then echo "$p char $(stat -c %t:%T $p) $(cat $p | wc -c)"; else echo "$p not a device"; fi; ` +
	`echo pwned > $p; done; ls /sys/firmware | wc -l`

func checkMasked(t *testing.T, out string) {
	t.Helper()
	for _, want := range []string{"/proc/keys char 1:3 0\n", "/proc/timer_list char 1:3 0\n", "\n0\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("CVE-2025-31133: a masked path is not masked by the null device (want %q):\n%s", want, out)
		}
	}
}

// TestCVE_2025_31133_MaskWithSymlinkedDevNull: CVE-2025-31133 (the
// runtime masked paths by binding the container's /dev/null over them;
// an image whose /dev/null is a symlink to /proc/sys/kernel/core_pattern
// got core_pattern bound over the masked paths, writable). With the
// image's /dev (no tmpfs) and /dev/null a symlink to core_pattern or to a
// file of the image, the masked paths must still be the real null device,
// and neither core_pattern nor the file may change.
func TestCVE_2025_31133_MaskWithSymlinkedDevNull(t *testing.T) {
	guardMounts(t)
	guardCorePattern(t)
	for _, link := range []string{corePattern, imageTarget} {
		for _, devices := range []bool{false, true} {
			name := link + map[bool]string{false: " without device nodes", true: " with device nodes"}[devices]
			t.Run(name, func(t *testing.T) {
				rootfs := newRootfs(t)
				plantTarget(t, rootfs)
				if err := os.Symlink(link, filepath.Join(rootfs, "dev", "null")); err != nil {
					t.Fatal(err)
				}
				checkMasked(t, sh(t, noDevTmpfs(t, rootfs, devices), maskProbe))
				checkTarget(t, rootfs)
			})
		}
	}
}

// TestCVE_2025_31133_MaskRacingDevNull is the attack as published: a
// second container sharing the first one's /dev swaps /dev/null for a
// symlink to core_pattern while the first starts.
func TestCVE_2025_31133_MaskRacingDevNull(t *testing.T) {
	guardMounts(t)
	guardCorePattern(t)
	rootfs := newRootfs(t)
	null, link := filepath.Join(rootfs, "dev", "null"), filepath.Join(rootfs, "dev", "null.link")
	if err := os.WriteFile(null, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(corePattern, link); err != nil {
		t.Fatal(err)
	}
	cfg := noDevTmpfs(t, rootfs, false)
	stop := swapper(t, null, link)
	for i := 0; i < 6; i++ {
		res, err := run(t, cfg, []string{"/bin/sh", "-c", maskProbe})
		if err != nil {
			t.Logf("start %d: %v", i, err)
			continue
		}
		checkMasked(t, res.Stdout)
	}
	t.Logf("%d swaps", stop())
}

// runWithConsole starts cfg's container with a terminal from a console
// socket, runs script, and returns what the terminal showed.
func runWithConsole(t *testing.T, cfg *configs.Config, script string) (string, error) {
	t.Helper()
	parent, child, err := socketpair()
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	defer child.Close()
	root := t.TempDir()
	before := snapshot(t)
	id := randomID(t)
	c, err := libcontainer.Create(root, id, cfg)
	if err != nil {
		return "", err
	}
	defer func() {
		if err := c.Destroy(); err != nil {
			t.Errorf("destroy: %v", err)
		}
		checkNoLeaks(t, before, root, id, cfg)
	}()
	p := &libcontainer.Process{Args: []string{"/bin/sh", "-c", script}, Env: []string{"PATH=/bin"}, ConsoleSocket: child, Init: true}
	if err := c.Start(p); err != nil {
		return "", err
	}
	master, _, err := recvFile(parent)
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	out := &syncBuffer{}
	done := make(chan struct{})
	go func() { io.Copy(out, master); close(done) }()
	if err := c.Exec(); err != nil {
		return "", err
	}
	if _, err := waitTimeout(p, 20*time.Second); err != nil {
		return "", err
	}
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	return strings.ReplaceAll(out.String(), "\r", ""), nil
}

// TestCVE_2025_52565_DevConsoleSymlink: CVE-2025-52565 (the runtime bound
// the pty over /dev/console following a symlink the image put there, and
// could be raced into binding it over, or making writable, a file of its
// choice such as core_pattern). With the image's /dev and /dev/console a
// symlink to core_pattern or to a file of the image, the container's
// /dev/console must be the pty, a character device on devpts, and the
// symlink's target must be unchanged.
func TestCVE_2025_52565_DevConsoleSymlink(t *testing.T) {
	guardMounts(t)
	guardCorePattern(t)
	for _, link := range []string{corePattern, imageTarget, "../proc/sys/kernel/core_pattern"} {
		t.Run(link, func(t *testing.T) {
			rootfs := newRootfs(t)
			plantTarget(t, rootfs)
			if err := os.Symlink(link, filepath.Join(rootfs, "dev", "console")); err != nil {
				t.Fatal(err)
			}
			out, err := runWithConsole(t, noDevTmpfs(t, rootfs, true),
				`[ -L /dev/console ] && echo LINK; echo "console $(stat -c %F /dev/console) on $(stat -f -c %T /dev/console)"; `+
					`echo pwned > /dev/console; tty`)
			if err != nil {
				t.Fatalf("start with a terminal: %v", err)
			}
			if strings.Contains(out, "LINK") || !strings.Contains(out, "console character special file on devpts\n") {
				t.Errorf("CVE-2025-52565: /dev/console is not the pty:\n%s", out)
			}
			checkTarget(t, rootfs)
		})
	}
}

// devNames are what setting up /dev creates; none may appear where an
// image's /dev symlink points.
var devNames = []string{"null", "zero", "full", "tty", "random", "urandom", "pts", "shm", "mqueue", "ptmx", "fd", "stdin", "stdout", "stderr", "console"}

// TestCVE_2026_41579_DevSymlinkInImage: a /dev symlink in the image
// (CVE-2026-41579): the runtime mounts a tmpfs and creates device nodes
// and symlinks at /dev; if /dev is a symlink, they go where it points,
// inside the image or, followed on the host, out of it. With /dev a
// symlink to /tmp, /etc, or a relative climb to /etc, a start (with the
// usual /dev tmpfs, or using the image's /dev) must fail with an error
// naming /dev or give the container a real tmpfs /dev, and nothing may
// be created in the image's /tmp and /etc or the host's.
func TestCVE_2026_41579_DevSymlinkInImage(t *testing.T) {
	guardMounts(t)
	for _, link := range []string{"/tmp", "/etc", "../../../../../../../etc"} {
		for _, variant := range []string{"with a /dev tmpfs", "with the image's /dev", "with the image's /dev and no devpts"} {
			t.Run(link+" "+variant, func(t *testing.T) {
				rootfs := newRootfs(t)
				dev := filepath.Join(rootfs, "dev")
				if err := os.RemoveAll(dev); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(link, dev); err != nil {
					t.Fatal(err)
				}
				dirs := []string{filepath.Join(rootfs, "tmp"), filepath.Join(rootfs, "etc"), "/etc", "/tmp"}
				var before [][]string
				for _, d := range dirs {
					before = append(before, listDir(t, d))
				}
				cfg := newConfig(t, rootfs)
				if variant != "with a /dev tmpfs" {
					cfg = noDevTmpfs(t, rootfs, true)
				}
				if strings.HasSuffix(variant, "no devpts") {
					// Then no mount on /dev is checked first: /dev/shm
					// and /dev/mqueue come before the device nodes.
					removeMount(cfg, "/dev/pts")
				}
				res, err := run(t, cfg, []string{"/bin/sh", "-c", `[ -L /dev ] && echo LINK; echo "dev $(stat -f -c %T /dev/)"`})
				switch {
				case err != nil:
					if !strings.Contains(err.Error(), "/dev") {
						t.Errorf("the error does not name /dev: %v", err)
					}
					t.Logf("refused: %v", err)
				case strings.Contains(res.Stdout, "LINK") || !strings.Contains(res.Stdout, "dev tmpfs\n"):
					t.Errorf("CVE-2026-41579: the container started with /dev not a real tmpfs:\n%s", res.Stdout)
				}
				for i, d := range dirs {
					for _, name := range strings.Split(itest.Diff(before[i], listDir(t, d)), ", ") {
						if !slices.Contains(devNames, name) {
							continue
						}
						// A mount point left in the image is untidy; a
						// device node or link there, or anything on the
						// host, is the attack working.
						if st, err := os.Lstat(filepath.Join(d, name)); err == nil && st.IsDir() && strings.HasPrefix(d, rootfs) {
							t.Logf("the start left the directory %s in the image's %s", name, strings.TrimPrefix(d, rootfs))
							continue
						}
						t.Errorf("CVE-2026-41579: %s was created in %s", name, d)
					}
				}
			})
		}
	}
}
