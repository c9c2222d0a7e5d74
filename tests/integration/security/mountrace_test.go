package security

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// swapper exchanges two paths (renameat2 RENAME_EXCHANGE: atomic, so
// each name is always one of the two) as fast as it can, as a process of
// another container sharing the volume would. stop ends it, leaves the
// first path as it was at the start, and returns how many swaps it made.
func swapper(t *testing.T, a, b string) (stop func() int) {
	t.Helper()
	var quit atomic.Bool
	var wg sync.WaitGroup
	swaps := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for !quit.Load() {
			if err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE); err != nil {
				t.Errorf("swap %s and %s: %v", a, b, err)
				return
			}
			swaps++
		}
		if swaps%2 == 1 {
			unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
			swaps++
		}
	}()
	return func() int {
		quit.Store(true)
		wg.Wait()
		return swaps
	}
}

// mountinfoHook adds to cfg a createRuntime hook that appends the mount
// table of the container's init, taken after every mount and before
// pivot_root, to the returned file: where the mounts really landed.
func mountinfoHook(t *testing.T, cfg *configs.Config) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "mountinfo")
	cfg.Hooks = configs.Hooks{configs.CreateRuntime: {configs.NewCommandHook(configs.Command{
		Path: exe, Args: []string{exe}, Env: []string{envRole + "=" + roleMountinfoHook, envOut + "=" + out},
	})}}
	return out
}

// checkMountsInside fails the test for every mount a container's mount
// table (from mountinfoHook's file) has beyond the host's at the same
// moment and outside the rootfs: a mount that a swapped-in symlink sent
// out of the rootfs. It logs where inside the rootfs the mounts landed,
// which shows whether the race was won at all (a mount on "/" followed
// the symlink).
func checkMountsInside(t *testing.T, hookFile, rootfs string) {
	t.Helper()
	b, err := os.ReadFile(hookFile)
	if err != nil {
		t.Fatalf("no mount table from the hook: %v", err)
	}
	where := map[string]int{}
	for i, tables := range strings.Split(string(b), "\n===\n") {
		container, host, ok := strings.Cut(tables, "\n---\n")
		if !ok {
			continue
		}
		extra := itest.Diff(itest.ParseMountPoints(host, nil), itest.ParseMountPoints(container, nil))
		for _, p := range strings.Split(extra, ", ") {
			switch {
			case p == "":
			case p == rootfs:
				where["/"]++
			case strings.HasPrefix(p, rootfs+"/"):
				where[strings.TrimPrefix(p, rootfs)]++
			case ourMounts(t, p) != "":
				t.Errorf("container %d mounted on %s, outside its rootfs", i, p)
			}
		}
	}
	t.Logf("where the containers' mounts landed in the rootfs: %v", where)
}

// TestCVE_2021_30465_SymlinkExchangeAtMountTarget: CVE-2021-30465 (the
// mount destination is swapped for a symlink between its resolution and
// the mount, so the volume lands outside the rootfs). While a goroutine
// exchanges the destination directory with a symlink to "/" (and to a
// chain of ".."), containers start with a tmpfs and a bind mount there.
// Every mount must land inside the rootfs, and the host must gain none.
func TestCVE_2021_30465_SymlinkExchangeAtMountTarget(t *testing.T) {
	guardMounts(t)
	volume := t.TempDir()
	if err := os.WriteFile(filepath.Join(volume, "marker"), []byte("volume\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const starts = 8
	for _, link := range []string{"/", "../../../../../../../../../.."} {
		for _, kind := range []string{"tmpfs", "bind"} {
			t.Run(kind+" "+link, func(t *testing.T) {
				rootfs := newRootfs(t)
				dir, sym := filepath.Join(rootfs, "mnt", "target"), filepath.Join(rootfs, "mnt", "link")
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(link, sym); err != nil {
					t.Fatal(err)
				}
				cfg := newConfig(t, rootfs)
				m := &configs.Mount{Source: "tmpfs", Destination: "/mnt/target", Device: "tmpfs", Data: "size=1m"}
				if kind == "bind" {
					m = &configs.Mount{Source: volume, Destination: "/mnt/target", Device: "bind", Flags: unix.MS_BIND}
				}
				cfg.Mounts = append(cfg.Mounts, m)
				hook := mountinfoHook(t, cfg)
				stop := swapper(t, dir, sym)
				failed := 0
				for i := 0; i < starts; i++ {
					if _, err := run(t, cfg, []string{"true"}); err != nil {
						failed++
					}
				}
				t.Logf("%d swaps, %d of %d starts failed", stop(), failed, starts)
				checkMountsInside(t, hook, rootfs)
			})
		}
	}
}

// TestCVE_2024_45310_MkdirRacingSymlink: CVE-2024-45310 (the runtime
// creates a missing mount point, directory or file, while the container
// swaps a component of its path for a symlink to the host, so the
// runtime creates it on the host). While a goroutine exchanges the
// image's /a with a symlink to a host directory (absolute, and relative),
// containers start with a tmpfs on /a/b/cN and a bind of a host file on
// /a/b/fileN, paths that do not exist yet. Nothing may appear in the host
// directory, and every mount must land inside the rootfs.
func TestCVE_2024_45310_MkdirRacingSymlink(t *testing.T) {
	guardMounts(t)
	hostFile := filepath.Join(t.TempDir(), "hostfile")
	if err := os.WriteFile(hostFile, []byte("host file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const starts = 8
	for _, relative := range []bool{false, true} {
		name := map[bool]string{false: "absolute", true: "relative"}[relative]
		t.Run(name, func(t *testing.T) {
			target := t.TempDir() // the host directory nothing may appear in
			if err := os.Mkdir(filepath.Join(target, "b"), 0o755); err != nil {
				t.Fatal(err)
			}
			rootfs := newRootfs(t)
			dir, sym := filepath.Join(rootfs, "a"), filepath.Join(rootfs, "a.link")
			if err := os.MkdirAll(filepath.Join(dir, "b"), 0o755); err != nil {
				t.Fatal(err)
			}
			link := target
			if relative {
				link = "../../../../../../../../../.." + target
			}
			if err := os.Symlink(link, sym); err != nil {
				t.Fatal(err)
			}
			hooked := newConfig(t, rootfs)
			hook := mountinfoHook(t, hooked)
			stop := swapper(t, dir, sym)
			failed := 0
			for i := 0; i < starts; i++ {
				cfg := newConfig(t, rootfs)
				cfg.Hooks = hooked.Hooks
				cfg.Mounts = append(cfg.Mounts,
					&configs.Mount{Source: "tmpfs", Destination: "/a/b/c" + itoa(i), Device: "tmpfs", Data: "size=1m"},
					&configs.Mount{Source: hostFile, Destination: "/a/b/file" + itoa(i), Device: "bind", Flags: unix.MS_BIND})
				if _, err := run(t, cfg, []string{"true"}); err != nil {
					failed++
				}
			}
			t.Logf("%d swaps, %d of %d starts failed", stop(), failed, starts)
			if got := listDir(t, filepath.Join(target, "b")); len(got) > 0 {
				t.Errorf("CVE-2024-45310: the runtime created %v in the host directory %s", got, target)
			}
			if got := listDir(t, target); len(got) != 1 {
				t.Errorf("CVE-2024-45310: the runtime created %v in the host directory %s", got, target)
			}
			checkMountsInside(t, hook, rootfs)
		})
	}
}
