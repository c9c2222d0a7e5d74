package lib

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// hostMount mounts a tmpfs with opts on a new directory of the test and
// unmounts it when the test ends.
func hostMount(t *testing.T, opts string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m,mode=755"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	if opts != "" {
		if out, err := exec.Command("mount", "-o", "remount,bind,"+opts, dir).CombinedOutput(); err != nil {
			t.Fatalf("remount %s %s: %v: %s", dir, opts, err, out)
		}
	}
	return dir
}

// optionSet is the per-mount options of a mountinfo line ("rw,nosuid"),
// in a canonical order.
func optionSet(mountinfo, dest string) (string, bool) {
	opts, _, ok := mountOpts(mountinfo, dest)
	return opts, ok
}

// TestBindFlags: a bind mount gets exactly the flags its options ask for,
// as runc's do (tests/integration/cli checks the same cases side by side
// with runc): any mount flag option sets read-only, nosuid, nodev, noexec
// and nosymfollow to what the options say, the source's others cleared,
// and keeps the source's access-time mode unless one is named; a plain
// bind keeps every flag of its source. On an rbind, ro is the top mount's
// only ("rro" is the recursive form).
func TestBindFlags(t *testing.T) {
	flagged := hostMount(t, "nosuid,nodev,noexec,noatime")
	readonly := hostMount(t, "ro")
	tree := hostMount(t, "")
	if err := os.Mkdir(filepath.Join(tree, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", filepath.Join(tree, "sub"), "tmpfs", unix.MS_NOSUID, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(filepath.Join(tree, "sub"), unix.MNT_DETACH) })
	bind := unix.MS_BIND
	for _, tt := range []struct {
		name     string
		src      string
		flags    int
		cleared  int
		rec      *unix.MountAttr
		want     string
		wantSub  string
		deviates string
	}{
		{name: "bind", src: flagged, flags: bind, want: "rw,nosuid,nodev,noexec,noatime"},
		{name: "bind,nosuid", src: flagged, flags: bind | unix.MS_NOSUID, want: "rw,nosuid,noatime"},
		{name: "bind,ro", src: flagged, flags: bind | unix.MS_RDONLY, want: "ro,noatime"},
		{name: "bind,relatime", src: flagged, flags: bind | unix.MS_RELATIME, want: "rw,relatime"},
		{name: "bind,strictatime", src: flagged, flags: bind | unix.MS_STRICTATIME, want: "rw"},
		{name: "bind,atime", src: flagged, flags: bind, cleared: unix.MS_NOATIME, want: "rw,noatime",
			deviates: "runc 1.1.5 drops options that only clear flags, keeping nosuid,nodev,noexec"},
		{name: "bind,norelatime", src: flagged, flags: bind, cleared: unix.MS_RELATIME, want: "rw,noatime",
			deviates: "as bind,atime"},
		{name: "bind,suid", src: flagged, flags: bind, cleared: unix.MS_NOSUID, want: "rw,noatime",
			deviates: "runc 1.1.5 keeps nosuid though suid was asked"},
		{name: "bind of ro", src: readonly, flags: bind, want: "ro,relatime"},
		{name: "bind,rw of ro", src: readonly, flags: bind, cleared: unix.MS_RDONLY, want: "rw,relatime",
			deviates: "runc 1.1.5 leaves it read-only though rw was asked"},
		{name: "bind,nosuid of ro", src: readonly, flags: bind | unix.MS_NOSUID, want: "rw,nosuid,relatime"},
		{name: "rbind", src: tree, flags: bind | unix.MS_REC, want: "rw,relatime", wantSub: "rw,nosuid,relatime"},
		{name: "rbind,ro", src: tree, flags: bind | unix.MS_REC | unix.MS_RDONLY, want: "ro,relatime", wantSub: "rw,nosuid,relatime"},
		{name: "rbind,nodev", src: tree, flags: bind | unix.MS_REC | unix.MS_NODEV, want: "rw,nodev,relatime", wantSub: "rw,nosuid,relatime"},
		{name: "rbind,rro", src: tree, flags: bind | unix.MS_REC, rec: &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY},
			want: "ro,relatime", wantSub: "ro,nosuid,relatime"},
	} {
		// Container ids take no commas.
		t.Run(strings.ReplaceAll(tt.name, ",", "+"), func(t *testing.T) {
			cfg := newConfig(t, busybox)
			cfg.Mounts = append(cfg.Mounts, &configs.Mount{Source: tt.src, Destination: "/mnt", Device: "bind",
				Flags: tt.flags, ClearedFlags: tt.cleared, RecAttr: tt.rec})
			info := sh(t, cfg, "cat /proc/self/mountinfo")
			if got, _ := optionSet(info, "/mnt"); got != tt.want {
				t.Errorf("/mnt has %q, want %q", got, tt.want)
			}
			if tt.wantSub != "" {
				if got, _ := optionSet(info, "/mnt/sub"); got != tt.wantSub {
					t.Errorf("/mnt/sub has %q, want %q", got, tt.wantSub)
				}
			}
			if tt.deviates != "" {
				t.Logf("differs from Debian's runc 1.1.5 on purpose (explicit options are honoured, as runc 1.2 and crun do): %s", tt.deviates)
			}
		})
	}
}

// TestBindOfSysReadonlyAllTheWay: "rbind,ro" of the host's /sys (what
// runc spec --rootless writes) is read-only below too, unlike other
// rbinds: runc's leaves the host's cgroupfs writable (CVE-2023-25809).
func TestBindOfSysReadonlyAllTheWay(t *testing.T) {
	cfg := newConfig(t, busybox)
	var kept []*configs.Mount
	for _, m := range cfg.Mounts {
		if m.Destination != "/sys" {
			kept = append(kept, m)
		}
	}
	cfg.Mounts = append(kept, &configs.Mount{Source: "/sys", Destination: "/sys", Device: "bind",
		Flags: unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC})
	info := sh(t, cfg, "cat /proc/self/mountinfo")
	n := 0
	for _, l := range strings.Split(info, "\n") {
		f := strings.Fields(l)
		if len(f) > 5 && strings.HasPrefix(f[4], "/sys/") {
			n++
			if !strings.HasPrefix(f[5], "ro") {
				t.Errorf("%s is writable: %s", f[4], f[5])
			}
		}
	}
	if n == 0 {
		t.Fatalf("no submount of the host's /sys in the container:\n%s", info)
	}
}

// userRootfs is a copy of the busybox rootfs owned by the root of a user
// namespace mapped to host uid 100000, with the directories given made.
func userRootfs(t *testing.T, dirs ...string) string {
	t.Helper()
	rootfs := newRootfs(t)
	for p := filepath.Dir(rootfs); p != os.TempDir() && p != "/"; p = filepath.Dir(p) {
		os.Chmod(p, 0o755)
	}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("chown", "-R", "100000:100000", rootfs).CombinedOutput(); err != nil {
		t.Fatalf("chown rootfs: %v: %s", err, out)
	}
	return rootfs
}

func withUserns(cfg *configs.Config) {
	cfg.Namespaces.Add(configs.NEWUSER, "")
	cfg.UIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	cfg.GIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	var kept []*configs.Mount
	for _, m := range cfg.Mounts {
		if m.Device != "cgroup" {
			kept = append(kept, m)
		}
	}
	cfg.Mounts = kept
}

// TestBindFlagsLockedInUserNamespace: in a user namespace the kernel
// locks the flags of the host's mounts. A bind keeps them whatever its
// options leave out; options that clear one explicitly are refused with
// the reason, never silently not honoured.
func TestBindFlagsLockedInUserNamespace(t *testing.T) {
	flagged := hostMount(t, "nosuid,nodev,noexec,noatime")
	rootfs := userRootfs(t, "/a", "/b")
	cfg := newConfig(t, rootfs)
	withUserns(cfg)
	cfg.Mounts = append(cfg.Mounts,
		&configs.Mount{Source: flagged, Destination: "/a", Device: "bind", Flags: unix.MS_BIND | unix.MS_RDONLY},
		&configs.Mount{Source: flagged, Destination: "/b", Device: "bind", Flags: unix.MS_BIND})
	info := sh(t, cfg, "cat /proc/self/mountinfo")
	for dest, want := range map[string]string{"/a": "ro,nosuid,nodev,noexec,noatime", "/b": "rw,nosuid,nodev,noexec,noatime"} {
		if got, _ := optionSet(info, dest); got != want {
			t.Errorf("%s has %q, want %q", dest, got, want)
		}
	}
	cfg = newConfig(t, rootfs)
	withUserns(cfg)
	cfg.Mounts = append(cfg.Mounts, &configs.Mount{Source: flagged, Destination: "/a", Device: "bind",
		Flags: unix.MS_BIND | unix.MS_NODEV, ClearedFlags: unix.MS_NOSUID})
	_, err := run(t, cfg, []string{"true"})
	if err == nil || !strings.Contains(err.Error(), "clear nosuid") {
		t.Fatalf("a bind clearing a locked nosuid: got %v, want a refusal naming nosuid", err)
	}
}

// TestBindSourceFromEarlierMount: bind sources are looked up when their
// mount is made, in order, so one may come from an earlier mount in the
// rootfs; a missing one fails the start, naming the mount.
func TestBindSourceFromEarlierMount(t *testing.T) {
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "x"), []byte("from the earlier mount\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rootfs := newRootfs(t)
	if err := os.Mkdir(filepath.Join(rootfs, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := newConfig(t, rootfs)
	cfg.Mounts = append(cfg.Mounts,
		&configs.Mount{Source: host, Destination: "/a", Device: "bind", Flags: unix.MS_BIND},
		&configs.Mount{Source: filepath.Join(rootfs, "a", "x"), Destination: "/b", Device: "bind", Flags: unix.MS_BIND})
	if out := sh(t, cfg, "cat /b"); out != "from the earlier mount\n" {
		t.Fatalf("/b has %q", out)
	}
	cfg = newConfig(t, rootfs)
	cfg.Mounts = append(cfg.Mounts, &configs.Mount{Source: filepath.Join(rootfs, "a", "x"), Destination: "/b", Device: "bind", Flags: unix.MS_BIND})
	_, err := run(t, cfg, []string{"true"})
	if err == nil || !strings.Contains(err.Error(), `mounts[6]: mount "`+filepath.Join(rootfs, "a", "x")+`" on "/b": source does not exist`) {
		t.Fatalf("got %v, want the mount named and its source missing", err)
	}
}

// TestBindSourceBeyondUserNamespace: in a user namespace, a bind source
// behind a directory its root may not search (a 0700 directory of host
// root) is opened by the runtime, as host root, as runc does; the mount
// still has the source's locked flags, and what the user namespace's root
// may do in it is unchanged.
func TestBindSourceBeyondUserNamespace(t *testing.T) {
	private := t.TempDir()
	os.Chmod(filepath.Dir(private), 0o755)
	inner := filepath.Join(private, "inner")
	if err := os.Mkdir(inner, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(inner, "f"), []byte("behind a 0700 directory\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(private, 0o700)
	rootfs := userRootfs(t, "/p")
	cfg := newConfig(t, rootfs)
	withUserns(cfg)
	cfg.Mounts = append(cfg.Mounts, &configs.Mount{Source: inner, Destination: "/p", Device: "bind", Flags: unix.MS_BIND})
	out := sh(t, cfg, "cat /p/f; touch /p/new 2>&1 | grep -o 'Permission denied'")
	if out != "behind a 0700 directory\nPermission denied\n" {
		t.Fatalf("got %q", out)
	}
}
