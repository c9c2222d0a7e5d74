package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// runcBin is Debian's runc, which corral is held to.
const runcBin = "/usr/sbin/runc"

// sideBySide runs the same bundle with runc and with corral and returns
// what each did. Each gets its own copy of the busybox rootfs, made
// writable and changed by prep (which may be nil), and its own state
// root; both run as the same container would.
func sideBySide(e *env, prep func(rootfs string), script string, mods ...func(*specs.Spec)) (runc, corral itest.Result) {
	t := e.T
	t.Helper()
	if _, err := os.Stat(runcBin); err != nil {
		t.Skipf("runc is not installed at %s (apt-get install runc): nothing to compare with", runcBin)
	}
	for _, rt := range []string{"runc", "corral"} {
		id := e.ID()
		dir := e.Bundle(id, []string{"/bin/sh", "-c", script}, mods...)
		rootfs := filepath.Join(dir, "rootfs")
		if out, err := exec.Command("cp", "-a", busybox, rootfs).CombinedOutput(); err != nil {
			t.Fatalf("copy rootfs: %v: %s", err, out)
		}
		if prep != nil {
			prep(rootfs)
		}
		itest.EditSpec(t, dir, func(s *specs.Spec) { s.Root = &specs.Root{Path: rootfs} })
		if rt == "corral" {
			corral = e.Corral("run", "--bundle", dir, id)
			continue
		}
		root := t.TempDir()
		ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
		runc = e.RunCmd(exec.CommandContext(ctx, runcBin, "--root", root, "run", "--bundle", dir, id))
		cancel()
		exec.Command(runcBin, "--root", root, "delete", "--force", id).Run()
	}
	return runc, corral
}

// addMounts appends mounts to a spec.
func addMounts(ms ...specs.Mount) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Mounts = append(s.Mounts, ms...) }
}

// tmpfsAt mounts a tmpfs with opts (remounted as a bind with them) on a
// new directory, unmounted when the test ends.
func tmpfsAt(t *testing.T, opts string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "src")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m,mode=755"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	if opts != "" {
		if out, err := exec.Command("mount", "-o", "remount,bind,"+opts, dir).CombinedOutput(); err != nil {
			t.Fatalf("remount %s: %v: %s", opts, err, out)
		}
	}
	return dir
}

// mountLines is a script printing "point options" for the mounts under
// the given prefix, in mount order.
func mountLines(prefix string) string {
	return `awk '$5 ~ "^` + prefix + `" {print $5, $6}' /proc/self/mountinfo`
}

// TestBindFlagsBesideRunc: bind mounts get the flags runc gives them, for
// the same options on the same sources: read-only, nosuid, nodev, noexec
// exactly as asked once any is asked, the source's access-time mode kept
// unless one is named, the source's flags when nothing is asked, rbind,ro
// read-only on top only, rro all the way. Options that only clear flags
// ("rw", "suid", "atime") are honoured by corral, as by runc 1.2 and crun;
// Debian's runc 1.1.5 drops them: those cases check corral alone.
func TestBindFlagsBesideRunc(t *testing.T) {
	e := newEnv(t)
	flagged := tmpfsAt(t, "nosuid,nodev,noexec,noatime")
	readonly := tmpfsAt(t, "ro")
	tree := tmpfsAt(t, "")
	if err := os.Mkdir(filepath.Join(tree, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", filepath.Join(tree, "sub"), "tmpfs", unix.MS_NOSUID, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(filepath.Join(tree, "sub"), unix.MNT_DETACH) })
	same := []struct{ src, opts string }{
		{flagged, "bind"}, {flagged, "bind,nosuid"}, {flagged, "bind,ro"}, {flagged, "bind,relatime"},
		{flagged, "bind,strictatime"}, {readonly, "bind"}, {readonly, "bind,nosuid"},
		{tree, "rbind"}, {tree, "rbind,ro"}, {tree, "rbind,nodev"}, {tree, "rbind,rro"},
	}
	corralOnly := []struct{ src, opts, want, runc string }{
		{flagged, "bind,atime", "rw,noatime", "rw,nosuid,nodev,noexec,noatime"},
		{flagged, "bind,norelatime", "rw,noatime", "rw,nosuid,nodev,noexec,noatime"},
		{flagged, "bind,suid", "rw,noatime", "rw,nosuid,nodev,noexec,noatime"},
		{readonly, "bind,rw", "rw,relatime", "ro,relatime"},
	}
	var ms []specs.Mount
	for i, c := range same {
		ms = append(ms, specs.Mount{Destination: "/m/s" + strconv.Itoa(i), Type: "bind", Source: c.src, Options: strings.Split(c.opts, ",")})
	}
	for i, c := range corralOnly {
		ms = append(ms, specs.Mount{Destination: "/m/c" + strconv.Itoa(i), Type: "bind", Source: c.src, Options: strings.Split(c.opts, ",")})
	}
	runc, corral := sideBySide(e, nil, mountLines("/m/"), addMounts(ms...))
	if runc.Code != 0 || corral.Code != 0 {
		t.Fatalf("runc: exit %d %s\ncorral: exit %d %s", runc.Code, runc.Stderr, corral.Code, corral.Stderr)
	}
	rl, cl := linesByPoint(runc.Stdout), linesByPoint(corral.Stdout)
	for i, c := range same {
		for _, p := range []string{"/m/s" + strconv.Itoa(i), "/m/s" + strconv.Itoa(i) + "/sub"} {
			if rl[p] != cl[p] {
				t.Errorf("%s of %s (%s): runc %q, corral %q", c.opts, c.src, p, rl[p], cl[p])
			}
		}
	}
	for i, c := range corralOnly {
		p := "/m/c" + strconv.Itoa(i)
		if cl[p] != c.want {
			t.Errorf("%s (%s): corral %q, want %q", c.opts, p, cl[p], c.want)
		}
		if rl[p] != c.runc {
			t.Logf("%s: runc gives %q now, not %q as Debian's 1.1.5 did", c.opts, rl[p], c.runc)
		}
	}
}

// linesByPoint maps "point options" lines by point.
func linesByPoint(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if p, opts, ok := strings.Cut(l, " "); ok {
			m[p] = opts
		}
	}
	return m
}

// TestMountPointsBesideRunc: what runc does with the mount points of the
// same bundle, corral does: a tmpfs takes the mode of an existing mount
// point (setuid, setgid, sticky included) and a new one gets 1777; a
// read-only tmpfs and a read-only /dev are filled first and made read-only
// (the mount only); a destination that is, or passes through, a dangling
// symlink is followed and what it names made; a bind source may come
// from an earlier mount; tmpcopyup copies what the image has there.
func TestMountPointsBesideRunc(t *testing.T) {
	e := newEnv(t)
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "x"), []byte("from the earlier mount\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	prep := func(rootfs string) {
		script := `set -e; cd "$1"; mkdir t1 t5 a cu; chmod 6751 t1; chmod 0555 t5
ln -s /x1 d1; ln -s ../../x2 d2; ln -s x3 d3; ln -s /nonexist/deeper/x4 d4
echo hi > cu/f; chmod 4711 cu/f; chown 5:6 cu/f; mkdir cu/d; ln -s ../etc cu/l; chmod 2750 cu`
		if out, err := exec.Command("sh", "-c", script, "sh", rootfs).CombinedOutput(); err != nil {
			t.Fatalf("prepare rootfs: %v: %s", err, out)
		}
	}
	tmpfs := func(dest string, opts ...string) specs.Mount {
		return specs.Mount{Destination: dest, Type: "tmpfs", Source: "tmpfs", Options: opts}
	}
	mods := []func(*specs.Spec){
		addMounts(tmpfs("/t1"), tmpfs("/t3"), tmpfs("/t5", "ro"), tmpfs("/d1"), tmpfs("/d2/sub"),
			specs.Mount{Destination: "/d3", Type: "bind", Source: "/etc/hostname", Options: []string{"bind"}},
			tmpfs("/d4"),
			specs.Mount{Destination: "/a", Type: "bind", Source: host, Options: []string{"bind"}},
			tmpfs("/cu", "tmpcopyup", "size=1m")),
		func(s *specs.Spec) {
			for i := range s.Mounts {
				if s.Mounts[i].Destination == "/dev" {
					s.Mounts[i].Options = append(s.Mounts[i].Options, "ro")
				}
			}
		},
	}
	// The earlier mount's file as a source: the bundle's path to it is
	// known only once sideBySide made the bundle, so it is relative.
	mods = append(mods, addMounts(specs.Mount{Destination: "/b", Type: "bind", Source: "rootfs/a/x", Options: []string{"bind"}}))
	script := `stat -c '%n %a' /t1 /t3 /t5 /x1 /x2/sub /x3 /nonexist/deeper/x4; cat /b; ` +
		`ls /dev | tr '\n' ' '; echo; touch /dev/x /t5/x 2>&1; ` +
		`ls -ln /cu | awk 'NR > 1 {print $1, $3, $4, $NF}'; cat /cu/f; ` +
		`awk '$5 ~ "^/(t[0-9]|dev|x|nonexist|b$|cu)" {print $5, $6}' /proc/self/mountinfo`
	runc, corral := sideBySide(e, prep, script, mods...)
	if runc.Code != corral.Code || runc.Stdout != corral.Stdout {
		t.Errorf("runc (exit %d):\n%s%s\ncorral (exit %d):\n%s%s", runc.Code, runc.Stdout, runc.Stderr, corral.Code, corral.Stdout, corral.Stderr)
	}
	if !strings.Contains(corral.Stdout, "/t1 6751\n/t3 1777\n/t5 555\n") || !strings.Contains(corral.Stdout, "/dev/x: Read-only file system") {
		t.Errorf("corral:\n%s", corral.Stdout)
	}
}

// TestBindSourceInUserNamespaceBesideRunc: with a user namespace, a bind
// source behind a directory its root may not search is opened by the
// runtime, host root, as runc opens it; both run the same.
func TestBindSourceInUserNamespaceBesideRunc(t *testing.T) {
	e := newEnv(t)
	private := t.TempDir()
	inner := filepath.Join(private, "inner")
	if err := os.Mkdir(inner, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(inner, "f"), []byte("secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(private, 0o700)
	os.Chmod(filepath.Dir(private), 0o755)
	prep := func(rootfs string) {
		os.Mkdir(filepath.Join(rootfs, "p"), 0o755)
		for p := filepath.Dir(rootfs); p != os.TempDir() && p != "/"; p = filepath.Dir(p) {
			os.Chmod(p, 0o755)
		}
	}
	userns := func(s *specs.Spec) {
		userNamespace(s)
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/p", Type: "bind", Source: inner, Options: []string{"bind"}})
	}
	runc, corral := sideBySide(e, prep, "cat /p/f", userns)
	if corral.Code != 0 || corral.Stdout != "secret\n" || runc.Stdout != corral.Stdout {
		t.Errorf("runc (exit %d): %s%s\ncorral (exit %d): %s%s", runc.Code, runc.Stdout, runc.Stderr, corral.Code, corral.Stdout, corral.Stderr)
	}
}

// TestKernelFSOnSymlinkBesideRunc: /proc or /sys that is not an ordinary
// directory fails both runtimes with runc's words, which engines match.
func TestKernelFSOnSymlinkBesideRunc(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct{ name, prep string }{
		{"proc symlink", "rmdir proc && ln -s /tmp proc"},
		{"sys file", "rmdir sys && touch sys"},
	} {
		prep := func(rootfs string) {
			if out, err := exec.Command("sh", "-c", "cd \"$1\" && "+tt.prep, "sh", rootfs).CombinedOutput(); err != nil {
				t.Fatalf("prepare rootfs: %v: %s", err, out)
			}
		}
		runc, corral := sideBySide(e, prep, "true")
		const want = "must be mounted on ordinary directory"
		if corral.Code == 0 || !strings.Contains(corral.Stderr, want) {
			t.Errorf("%s: corral exit %d: %s", tt.name, corral.Code, corral.Stderr)
		}
		if runc.Code == 0 || !strings.Contains(runc.Stderr, want) {
			t.Logf("%s: runc now says: %s", tt.name, runc.Stderr)
		}
	}
}

// TestUnsafeMountConfigsRefused: where runc goes on and the result is
// unsafe, corral refuses and says why, naming the field. A bind of the
// host's /proc over the container's shows the host's processes, and
// through /proc/1/root the host's files; without a mount namespace runc
// makes the container's mounts in the host's mount table and leaves them
// there (so it is not run here).
func TestUnsafeMountConfigsRefused(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		name string
		mod  func(*specs.Spec)
		want []string
	}{
		{"host /proc bound on /proc", func(s *specs.Spec) {
			for i := range s.Mounts {
				if s.Mounts[i].Destination == "/proc" {
					s.Mounts[i] = specs.Mount{Destination: "/proc", Type: "bind", Source: "/proc", Options: []string{"rbind"}}
				}
			}
		}, []string{`mounts[0].source: "/proc" is a procfs of the host`, "/proc/1/root"}},
		{"no mount namespace", func(s *specs.Spec) {
			var kept []specs.LinuxNamespace
			for _, ns := range s.Linux.Namespaces {
				if ns.Type != specs.MountNamespace {
					kept = append(kept, ns)
				}
			}
			s.Linux.Namespaces = kept
		}, []string{"linux.namespaces: a mount namespace is required", "made on the host"}},
	} {
		t.Run(strings.ReplaceAll(tt.name, " ", "-"), func(t *testing.T) {
			id := e.ID()
			e.fails(tt.want, "run", "--bundle", e.Bundle(id, []string{"true"}, tt.mod), id)
		})
	}
}
