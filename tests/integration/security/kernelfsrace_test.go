package security

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// mountEntry is one line of a mountinfo table.
type mountEntry struct {
	id, parent  string
	root, point string
	opts        string
	fstype      string
}

func parseMountinfo(text string) []mountEntry {
	var out []mountEntry
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(l)
		if len(f) < 10 {
			continue
		}
		e := mountEntry{id: f[0], parent: f[1], root: f[3], point: f[4], opts: f[5]}
		for i, x := range f {
			if x == "-" && i+1 < len(f) {
				e.fstype = f[i+1]
			}
		}
		out = append(out, e)
	}
	return out
}

// kernelFSCheck is what every instance of a kernel filesystem the victim
// gets must have below it: its read-only paths read-only, its masked
// paths covered.
type kernelFSCheck struct {
	dir, fstype string
	readonly    []string
	masked      []string
}

// checkInstances fails the test for every instance of c.fstype in the
// containers' mount tables (from mountinfoHook's file) that lacks one of
// its read-only or masked paths: wherever renames in the shared rootfs
// moved it, the instance is what the container's processes reach. It
// returns how many tables had such an instance, and how many instances
// sat somewhere else than on c.dir.
func checkInstances(t *testing.T, hookFile, rootfs string, c kernelFSCheck) (bad, elsewhere int) {
	t.Helper()
	b, err := os.ReadFile(hookFile)
	if err != nil {
		t.Fatalf("no mount table from the hook: %v", err)
	}
	for i, tables := range strings.Split(string(b), "\n===\n") {
		container, _, ok := strings.Cut(tables, "\n---\n")
		if !ok {
			continue
		}
		mounts := parseMountinfo(container)
		for _, inst := range mounts {
			// The host's, in init's namespace before pivot_root, are not
			// the container's.
			if inst.fstype != c.fstype || inst.root != "/" || !strings.HasPrefix(inst.point, rootfs+"/") {
				continue
			}
			if inst.point != filepath.Join(rootfs, c.dir) {
				elsewhere++
			}
			// By name, not by path: the table is read while the other
			// container renames, and a line may show a path from before
			// a rename and the next one from after.
			children := map[string]mountEntry{}
			for _, m := range mounts {
				if m.parent == inst.id {
					children[filepath.Base(m.point)] = m
				}
			}
			var missing []string
			for _, p := range c.readonly {
				if m, ok := children[p]; !ok || !strings.HasPrefix(m.opts, "ro") {
					missing = append(missing, p+" read-only")
				}
			}
			for _, p := range c.masked {
				if _, ok := children[p]; !ok {
					missing = append(missing, p+" masked")
				}
			}
			if len(missing) > 0 {
				bad++
				t.Errorf("container %d: the %s on %s lacks %s", i, c.fstype, inst.point, strings.Join(missing, ", "))
			}
		}
	}
	return bad, elsewhere
}

// TestKernelFSSwappedWhileMounted: issue 17 (3). A second container that
// shares the victim's rootfs exchanges its /proc (or /sys) with a decoy
// directory of its own, as fast as it can, while victims start. Every
// procfs and sysfs a victim gets must have its masked and read-only paths
// (a procfs with a writable sys/kernel/core_pattern is the host's), and
// nothing may be mounted outside the rootfs. Where renames leave an
// instance afterwards is the other container's doing, and no runtime's to
// prevent: they are counted, not failed.
func TestKernelFSSwappedWhileMounted(t *testing.T) {
	guardMounts(t)
	const starts = 10
	for _, c := range []kernelFSCheck{
		{dir: "proc", fstype: "proc", readonly: []string{"sys", "irq"}, masked: []string{"keys", "timer_list"}},
		{dir: "sys", fstype: "sysfs", masked: []string{"firmware"}},
	} {
		t.Run(c.dir, func(t *testing.T) {
			rootfs := newRootfs(t)
			real, decoy := filepath.Join(rootfs, c.dir), filepath.Join(rootfs, "decoy")
			// The decoy has what the masks and read-only binds look for,
			// so that ones resolved there land there.
			for _, p := range append(append([]string{}, c.readonly...), c.masked...) {
				var err error
				if p == "sys" || p == "irq" || p == "firmware" {
					err = os.MkdirAll(filepath.Join(decoy, p, "kernel"), 0o755)
				} else {
					os.MkdirAll(decoy, 0o755)
					err = os.WriteFile(filepath.Join(decoy, p), []byte("decoy\n"), 0o644)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			cfg := newConfig(t, rootfs)
			cfg.MaskPaths = []string{"/proc/keys", "/proc/timer_list", "/sys/firmware"}
			cfg.ReadonlyPaths = []string{"/proc/sys", "/proc/irq"}
			hook := mountinfoHook(t, cfg)
			stop := swapper(t, real, decoy)
			failed := 0
			for i := 0; i < starts; i++ {
				if _, err := run(t, cfg, []string{"true"}); err != nil {
					failed++
					t.Logf("start %d failed: %v", i, err)
				}
			}
			swaps := stop()
			bad, elsewhere := checkInstances(t, hook, rootfs, c)
			t.Logf("%d swaps; %d of %d starts failed; %d containers had a %s without its masks; %d instances were renamed away from /%s",
				swaps, failed, starts, bad, c.fstype, elsewhere, c.dir)
			if failed == starts {
				t.Errorf("no container started: the race shows nothing")
			}
			checkMountsInside(t, hook, rootfs)
		})
	}
}

// TestBindSwappedForRootSymlink: issue 17 (3), bind mounts. While a second
// container exchanges a volume's mount point with a symlink to "/" of the
// shared rootfs, victims start with the volume. The volume may not land
// on the container's root: the symlink followed there is refused.
func TestBindSwappedForRootSymlink(t *testing.T) {
	guardMounts(t)
	volume := t.TempDir()
	os.Chmod(volume, 0o755)
	if err := os.WriteFile(filepath.Join(volume, "marker"), []byte("volume\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const starts = 12
	for _, kind := range []string{"bind", "tmpfs"} {
		t.Run(kind, func(t *testing.T) {
			rootfs := newRootfs(t)
			dir, sym := filepath.Join(rootfs, "mnt", "target"), filepath.Join(rootfs, "mnt", "link")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("/", sym); err != nil {
				t.Fatal(err)
			}
			cfg := newConfig(t, rootfs)
			m := &configs.Mount{Source: volume, Destination: "/mnt/target", Device: "bind", Flags: unix.MS_BIND}
			if kind == "tmpfs" {
				m = &configs.Mount{Source: "tmpfs", Destination: "/mnt/target", Device: "tmpfs", Data: "size=1m"}
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
			swaps := stop()
			onRoot := 0
			b, err := os.ReadFile(hook)
			if err != nil {
				t.Fatalf("no mount table from the hook: %v", err)
			}
			for _, tables := range strings.Split(string(b), "\n===\n") {
				container, _, ok := strings.Cut(tables, "\n---\n")
				if !ok {
					continue
				}
				for _, m := range parseMountinfo(container) {
					if m.point == rootfs && (m.fstype == "tmpfs" || m.root != "/" && strings.HasSuffix(volume, m.root)) {
						onRoot++
					}
				}
			}
			t.Logf("%d swaps; %d of %d starts failed; the volume landed on the container's / %d times", swaps, failed, starts, onRoot)
			if onRoot > 0 {
				t.Errorf("the %s meant for /mnt/target covered the container's root %d times", kind, onRoot)
			}
			checkMountsInside(t, hook, rootfs)
		})
	}
}
