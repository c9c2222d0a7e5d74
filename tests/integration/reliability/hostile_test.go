package reliability

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// hostileTimeout bounds one container of a hostile image: a clear error
// or a working container come in well under it.
const hostileTimeout = 20 * time.Second

// copyRootfs copies the busybox root filesystem for a test to spoil.
func copyRootfs(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "rootfs")
	if out, err := exec.Command("cp", "-a", busybox, dst).CombinedOutput(); err != nil {
		t.Fatalf("copy the rootfs: %v\n%s", err, out)
	}
	return dst
}

// hostPrint is what a hostile image must not change on the host.
type hostPrint struct {
	files map[string]string
	root  []string
}

// hostFiles are the host files an image would aim at.
var hostFiles = []string{
	"/etc/passwd", "/etc/shadow", "/etc/group", "/etc/hostname", "/etc/hosts",
	"/etc/resolv.conf", "/dev/null", "/dev/zero", "/dev/full", "/dev/random",
	"/dev/urandom", "/dev/tty", "/dev/ptmx", "/dev/console", "/proc/sys/kernel/hostname",
	"/proc/sys/kernel/core_pattern", "/bin/sh", "/bin/busybox",
}

func fingerprint(t *testing.T) hostPrint {
	t.Helper()
	p := hostPrint{files: map[string]string{}}
	for _, f := range hostFiles {
		p.files[f] = fileID(f)
	}
	ents, err := os.ReadDir("/")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		p.root = append(p.root, e.Name())
	}
	return p
}

// fileID is a file's type, mode, owner, device and, for a regular file,
// the hash of its content.
func fileID(path string) string {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return "error: " + err.Error()
	}
	id := fmt.Sprintf("mode %o uid %d gid %d rdev %d", st.Mode, st.Uid, st.Gid, st.Rdev)
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		f, err := os.Open(path)
		if err != nil {
			return id + " " + err.Error()
		}
		defer f.Close()
		h := sha256.New()
		io.Copy(h, f)
		id += " sha256 " + hex.EncodeToString(h.Sum(nil))
	case unix.S_IFLNK:
		l, _ := os.Readlink(path)
		id += " -> " + l
	}
	return id
}

// compare reports every way the host differs from p.
func (p hostPrint) compare(t *testing.T, now hostPrint) {
	t.Helper()
	for _, f := range hostFiles {
		if p.files[f] != now.files[f] {
			t.Errorf("HOST CHANGED: %s was %s, is %s", f, p.files[f], now.files[f])
		}
	}
	if d := itest.Extra(p.root, now.root); len(d) > 0 {
		t.Errorf("HOST CHANGED: new in /: %v", d)
	}
}

// hostileCase is an image spoiled one way.
type hostileCase struct {
	name string
	// spoil changes the rootfs copy; host is an empty host directory
	// outside the rootfs that symlinks may aim at, rel its path
	// relative to the rootfs with enough ".." to climb out of it.
	spoil func(t *testing.T, rootfs, host, rel string)
	// spec changes the config (the default mounts /proc, /dev, /sys).
	spec func(*specs.Spec)
	// args is the program, busybox's sh by default.
	args []string
	// mustWork is set when the image is odd but valid: the container
	// must run.
	mustWork bool
}

// must is for the spoilers: any error stops the test.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func replaceSymlink(t *testing.T, path, target string) {
	t.Helper()
	must(t, os.RemoveAll(path))
	must(t, os.Symlink(target, path))
}

func replaceFile(t *testing.T, path string) {
	t.Helper()
	must(t, os.RemoveAll(path))
	must(t, os.WriteFile(path, []byte("not a directory\n"), 0o644))
}

// withoutDev drops the mounts of /dev and below: the runtime makes the
// device nodes in the image's own /dev.
func withoutDev(s *specs.Spec) {
	var ms []specs.Mount
	for _, m := range s.Mounts {
		if m.Destination != "/dev" && !strings.HasPrefix(m.Destination, "/dev/") {
			ms = append(ms, m)
		}
	}
	s.Mounts = ms
}

// oddDev fills the image's /dev with what is not a device: fifos,
// sockets, directories, symlinks to /proc and out of the rootfs.
func oddDev(t *testing.T, rootfs, host, rel string) {
	oddDevTTY(t, rootfs, rel, true)
}

// oddDevTTY is oddDev, with /dev/tty a directory or a fifo.
func oddDevTTY(t *testing.T, rootfs, rel string, ttyDir bool) {
	dev := filepath.Join(rootfs, "dev")
	must(t, os.RemoveAll(dev))
	must(t, os.Mkdir(dev, 0o755))
	must(t, unix.Mkfifo(filepath.Join(dev, "null"), 0o666))
	must(t, unix.Mkfifo(filepath.Join(dev, "console"), 0o666))
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	must(t, err)
	must(t, unix.Bind(fd, &unix.SockaddrUnix{Name: filepath.Join(dev, "zero")}))
	unix.Close(fd)
	must(t, os.Symlink("/proc/self/mem", filepath.Join(dev, "full")))
	must(t, os.Symlink("../../../../../../../../etc/shadow", filepath.Join(dev, "random")))
	must(t, os.Symlink("/etc/shadow", filepath.Join(dev, "urandom")))
	if ttyDir {
		must(t, os.Mkdir(filepath.Join(dev, "tty"), 0o755))
	} else {
		must(t, unix.Mkfifo(filepath.Join(dev, "tty"), 0o666))
	}
	must(t, os.Symlink("/proc/kcore", filepath.Join(dev, "ptmx")))
	must(t, os.WriteFile(filepath.Join(dev, "pts"), nil, 0o644))
	must(t, os.Symlink("/", filepath.Join(dev, "shm")))
	must(t, os.Symlink(rel, filepath.Join(dev, "mqueue")))
	must(t, os.Symlink("/proc/1/fd", filepath.Join(dev, "fd")))
	must(t, os.Symlink("/proc/self/fd/0", filepath.Join(dev, "stdin")))
	must(t, os.Symlink(rel+"/out", filepath.Join(dev, "stdout")))
}

// hugeFile writes a valid /etc/passwd of 50 MB: root first, then junk.
func hugePasswd(t *testing.T, rootfs, host, rel string) {
	f, err := os.Create(filepath.Join(rootfs, "etc", "passwd"))
	must(t, err)
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "root:x:0:0:root:/root:/bin/sh")
	line := "u" + strings.Repeat("x", 90) + ":x:5000:5000::/home:/bin/sh\n"
	for n := 0; n < 50<<20; n += len(line) {
		w.WriteString(line)
	}
	must(t, w.Flush())
}

// hostileCases are the spoiled images.
func hostileCases() []hostileCase {
	return []hostileCase{
		{name: "etc-to-root", spoil: func(t *testing.T, r, h, rel string) {
			replaceSymlink(t, filepath.Join(r, "etc"), "/")
		}},
		{name: "etc-out-of-rootfs", spoil: func(t *testing.T, r, h, rel string) {
			replaceSymlink(t, filepath.Join(r, "etc"), "../../../../../../../../etc")
		}},
		{name: "etc-to-host-dir", spoil: func(t *testing.T, r, h, rel string) {
			replaceSymlink(t, filepath.Join(r, "etc"), rel)
		}},
		{name: "passwd-urandom", spoil: func(t *testing.T, r, h, rel string) {
			replaceSymlink(t, filepath.Join(r, "etc/passwd"), "/dev/urandom")
		}},
		{name: "passwd-proc-self-mem", spoil: func(t *testing.T, r, h, rel string) {
			replaceSymlink(t, filepath.Join(r, "etc/passwd"), "/proc/self/mem")
		}},
		{name: "passwd-host-shadow", spoil: func(t *testing.T, r, h, rel string) {
			replaceSymlink(t, filepath.Join(r, "etc/passwd"), "../../../../../../../../etc/shadow")
		}},
		{name: "passwd-host-file", spoil: func(t *testing.T, r, h, rel string) {
			// Read from the host, this passwd would make $HOME
			// /escaped-home.
			must(t, os.WriteFile(filepath.Join(h, "passwd"), []byte("root:x:0:0:root:/escaped-home:/bin/sh\n"), 0o644))
			replaceSymlink(t, filepath.Join(r, "etc/passwd"), rel+"/passwd")
		}},
		{name: "passwd-fifo", spoil: func(t *testing.T, r, h, rel string) {
			must(t, os.Remove(filepath.Join(r, "etc/passwd")))
			must(t, unix.Mkfifo(filepath.Join(r, "etc/passwd"), 0o644))
		}},
		{name: "passwd-dir", spoil: func(t *testing.T, r, h, rel string) {
			must(t, os.Remove(filepath.Join(r, "etc/passwd")))
			must(t, os.Mkdir(filepath.Join(r, "etc/passwd"), 0o755))
		}},
		{name: "passwd-huge", spoil: hugePasswd, mustWork: true},
		{name: "passwd-group-missing", spoil: func(t *testing.T, r, h, rel string) {
			must(t, os.Remove(filepath.Join(r, "etc/passwd")))
			must(t, os.Remove(filepath.Join(r, "etc/group")))
		}, mustWork: true},
		{name: "group-missing", spoil: func(t *testing.T, r, h, rel string) {
			must(t, os.Remove(filepath.Join(r, "etc/group")))
		}, mustWork: true},
		{name: "sh-missing", spoil: func(t *testing.T, r, h, rel string) {
			must(t, os.Remove(filepath.Join(r, "bin/sh")))
		}, args: []string{"sh", "-c", "echo ok"}},
		{name: "sh-dangling", spoil: func(t *testing.T, r, h, rel string) {
			replaceSymlink(t, filepath.Join(r, "bin/sh"), "/nonexistent")
		}, args: []string{"/bin/sh", "-c", "echo ok"}},
		{name: "sh-loop", spoil: func(t *testing.T, r, h, rel string) {
			replaceSymlink(t, filepath.Join(r, "bin/sh"), "sh")
		}, args: []string{"/bin/sh", "-c", "echo ok"}},
		{name: "sh-host", spoil: func(t *testing.T, r, h, rel string) {
			replaceSymlink(t, filepath.Join(r, "bin/sh"), "../../../../../../../../bin/bash")
		}, args: []string{"/bin/sh", "-c", "echo ok"}},
		{name: "dev-odd-files", spoil: oddDev, spec: withoutDev},
		{name: "dev-odd-files-tty-fifo", spoil: func(t *testing.T, r, h, rel string) {
			oddDevTTY(t, r, rel, false)
		}, spec: withoutDev},
		{name: "dev-odd-files-mounted", spoil: oddDev},
		{name: "dev-to-host-dir", spoil: func(t *testing.T, r, h, rel string) {
			replaceSymlink(t, filepath.Join(r, "dev"), rel)
		}},
		{name: "dev-to-host-dir-unmounted", spoil: func(t *testing.T, r, h, rel string) {
			replaceSymlink(t, filepath.Join(r, "dev"), rel)
		}, spec: withoutDev},
		{name: "dev-to-host-dev", spoil: func(t *testing.T, r, h, rel string) {
			replaceSymlink(t, filepath.Join(r, "dev"), "/dev")
		}, spec: withoutDev},
		{name: "tmp-to-root", spoil: func(t *testing.T, r, h, rel string) {
			replaceSymlink(t, filepath.Join(r, "tmp"), "/")
		}, mustWork: true},
		{name: "tmp-out-of-rootfs", spoil: func(t *testing.T, r, h, rel string) {
			replaceSymlink(t, filepath.Join(r, "tmp"), "../../../../../../../../tmp")
		}},
		{name: "proc-file", spoil: func(t *testing.T, r, h, rel string) {
			replaceFile(t, filepath.Join(r, "proc"))
		}},
		{name: "sys-file", spoil: func(t *testing.T, r, h, rel string) {
			replaceFile(t, filepath.Join(r, "sys"))
		}},
		{name: "proc-to-host-dir", spoil: func(t *testing.T, r, h, rel string) {
			replaceSymlink(t, filepath.Join(r, "proc"), rel)
		}},
		{name: "sys-to-host-dir", spoil: func(t *testing.T, r, h, rel string) {
			replaceSymlink(t, filepath.Join(r, "sys"), rel)
		}},
		{name: "proc-loop", spoil: func(t *testing.T, r, h, rel string) {
			replaceSymlink(t, filepath.Join(r, "proc"), "proc")
		}},
		{name: "cwd-to-host-dir", spoil: func(t *testing.T, r, h, rel string) {
			replaceSymlink(t, filepath.Join(r, "work"), rel)
		}, spec: func(s *specs.Spec) { s.Process.Cwd = "/work" }},
		{name: "cwd-fifo", spoil: func(t *testing.T, r, h, rel string) {
			must(t, unix.Mkfifo(filepath.Join(r, "work"), 0o666))
		}, spec: func(s *specs.Spec) { s.Process.Cwd = "/work" }},
		{name: "cgroup-to-host-cgroup", spoil: func(t *testing.T, r, h, rel string) {
			// /sys is mounted first: the symlink is hidden.
			must(t, os.MkdirAll(filepath.Join(r, "sys/fs"), 0o755))
			replaceSymlink(t, filepath.Join(r, "sys/fs/cgroup"), "../../../../../../../sys/fs/cgroup")
		}, mustWork: true},
	}
}

// TestHostileImage runs containers from spoiled images: each gets a
// clear error or works, in time, and the host does not change.
func TestHostileImage(t *testing.T) {
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			id := e.id()
			marker := e.marker()
			rootfs := copyRootfs(t)
			host := t.TempDir()
			tc.spoil(t, rootfs, host, strings.Repeat("../", 8)+strings.TrimPrefix(host, "/"))
			args := tc.args
			if args == nil {
				// The program writes the marker wherever the image's
				// symlinks point, and says who it is.
				script := `for d in . / /tmp /etc /dev /run /var; do echo M > "$d/M-` + marker + `" 2>/dev/null; done; echo "home=$HOME"; echo "ok-` + marker + `"`
				args = []string{"/bin/busybox", "sh", "-c", script}
			}
			dir := e.bundle(id, args, func(s *specs.Spec) {
				s.Root = &specs.Root{Path: rootfs}
				if tc.spec != nil {
					tc.spec(s)
				}
			})
			before := fingerprint(t)

			r := e.corralT(hostileTimeout, nil, "run", "--bundle", dir, id)
			switch {
			case r.hung:
				t.Errorf("HANG: %v", r)
			case r.code == 0 && strings.Contains(r.stdout, "ok") || tc.args != nil && r.code == 0:
				t.Logf("works: %s", strings.TrimSpace(r.stdout))
				if strings.Contains(r.stdout, "escaped-home") {
					t.Errorf("the runtime read the container's /etc/passwd from the host: %s", r.stdout)
				}
			case r.code == 0:
				t.Errorf("run succeeded but the program did not run: %v", r)
			default:
				t.Logf("error (exit %d): %s", r.code, strings.TrimSpace(r.stderr))
				if tc.mustWork {
					t.Errorf("the image is odd but valid; the container must work: %v", r)
				}
				if strings.TrimSpace(r.stderr) == "" || strings.Contains(r.stderr, "panic") {
					t.Errorf("not a clear error: %v", r)
				}
			}
			if r.hung || r.code != 0 {
				if d := e.corral("delete", "--force", id); d.code != 0 || d.hung {
					t.Errorf("delete --force after a failed run: %v", d)
				}
			}

			fingerprint(t).compare(t, before)
			for _, d := range []string{"/", "/tmp", "/etc", "/dev", "/run", "/var"} {
				if _, err := os.Lstat(filepath.Join(d, "M-"+marker)); err == nil {
					t.Errorf("HOST CHANGED: the container wrote %s", filepath.Join(d, "M-"+marker))
					os.Remove(filepath.Join(d, "M-"+marker))
				}
			}
			var names []string
			filepath.Walk(host, func(p string, info os.FileInfo, err error) error {
				if p != host && info != nil && info.Name() != "passwd" {
					names = append(names, p)
				}
				return nil
			})
			if len(names) > 0 {
				sort.Strings(names)
				t.Errorf("HOST CHANGED: the container wrote into a host directory: %v", names)
			}
			if st, err := os.Stat(host); err != nil || st.Mode().Perm() != 0o700 && st.Mode().Perm() != 0o755 {
				t.Errorf("HOST CHANGED: host directory %s: %v %v", host, st.Mode(), err)
			}
		})
	}
}
