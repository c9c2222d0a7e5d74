package rootpath

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

func newRoot(t testing.TB) (string, *os.File) {
	dir := t.TempDir()
	root, err := os.OpenFile(dir, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return dir, root
}

func TestMkdirAllStaysInside(t *testing.T) {
	dir, root := newRoot(t)
	outside := t.TempDir()
	os.Symlink(outside, filepath.Join(dir, "abs"))
	os.Symlink("../../../../"+outside, filepath.Join(dir, "rel"))
	os.MkdirAll(filepath.Join(dir, "exists/deep"), 0o755)
	for _, p := range []string{"/a/b/c", "/exists/deep/new", "../../escape", "exists"} {
		f, _, err := MkdirAll(root, p, 0o755)
		if err != nil {
			t.Fatalf("MkdirAll(%q): %v", p, err)
		}
		f.Close()
	}
	// Through a symlink dangling inside the root (the host directory
	// it names does not exist there): made inside, never outside.
	for _, p := range []string{"abs/x/y", "rel/x"} {
		f, _, err := MkdirAll(root, p, 0o755)
		if err != nil {
			t.Fatalf("MkdirAll(%q): %v", p, err)
		}
		f.Close()
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("MkdirAll created %v outside the root", ents)
	}
	for _, p := range []string{"a/b/c", "exists/deep/new", "escape", outside + "/x/y", outside + "/x"} {
		if st, err := os.Stat(filepath.Join(dir, p)); err != nil || !st.IsDir() {
			t.Errorf("%s not created inside the root: %v", p, err)
		}
	}
}

func TestOpen(t *testing.T) {
	dir, root := newRoot(t)
	os.WriteFile(filepath.Join(dir, "file"), nil, 0o644)
	os.Symlink("/etc/passwd", filepath.Join(dir, "link"))
	if f, err := Open(root, "/file", 0); err != nil {
		t.Fatal(err)
	} else {
		f.Close()
	}
	if _, err := Open(root, "/link", 0); !errors.Is(err, unix.ENOENT) {
		t.Fatalf("a symlink to /etc/passwd resolved outside the root: %v", err)
	}
	if _, _, err := MkdirAll(root, "/file/sub", 0o755); err == nil {
		t.Fatal("MkdirAll through a file succeeded")
	}
}

func BenchmarkMkdirAllExisting(b *testing.B) {
	dir, root := newRoot(b)
	os.MkdirAll(filepath.Join(dir, "dev/pts"), 0o755)
	for b.Loop() {
		f, _, err := MkdirAll(root, "/dev/pts", 0o755)
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// TestDanglingSymlinks: a mount point that is, or passes through, a
// symlink to something missing gets the symlink's target made inside the
// root, as runc does, for directories and files alike.
func TestDanglingSymlinks(t *testing.T) {
	dir, root := newRoot(t)
	os.Symlink("/x1", filepath.Join(dir, "d1"))
	os.Symlink("../../x2", filepath.Join(dir, "d2"))
	os.Symlink("x3", filepath.Join(dir, "d3"))
	os.Symlink("/nonexist/deeper/x4", filepath.Join(dir, "d4"))
	os.Symlink("d5b", filepath.Join(dir, "d5"))
	os.Symlink("/x5", filepath.Join(dir, "d5b"))
	for _, tt := range []struct {
		path, made string
		file       bool
	}{
		{"/d1", "x1", false},
		{"/d2/sub", "x2/sub", false},
		{"/d3", "x3", true},
		{"/d4", "nonexist/deeper/x4", false},
		{"/d5/f", "x5/f", true},
	} {
		var f *os.File
		var created bool
		var err error
		if tt.file {
			f, created, err = CreateFile(root, tt.path, 0o644)
		} else {
			f, created, err = MkdirAll(root, tt.path, 0o755)
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		f.Close()
		if !created {
			t.Errorf("%s: not reported as created", tt.path)
		}
		st, err := os.Lstat(filepath.Join(dir, tt.made))
		if err != nil {
			t.Fatalf("%s: %s not made: %v", tt.path, tt.made, err)
		}
		if st.IsDir() == tt.file {
			t.Errorf("%s: %s made with mode %v", tt.path, tt.made, st.Mode())
		}
	}
	f, created, err := MkdirAll(root, "/d1", 0o755)
	if err != nil || created {
		t.Fatalf("an existing directory: created %v, %v", created, err)
	}
	f.Close()
}

func TestNoSymlinks(t *testing.T) {
	dir, root := newRoot(t)
	os.Mkdir(filepath.Join(dir, "real"), 0o755)
	os.Symlink("real", filepath.Join(dir, "link"))
	for _, p := range []string{"/link", "/link/x", "/real/../link/y"} {
		if f, _, err := MkdirAllNoSymlinks(root, p, 0o755); !errors.Is(err, unix.ELOOP) {
			if f != nil {
				f.Close()
			}
			t.Errorf("MkdirAllNoSymlinks(%q) = %v, want ELOOP", p, err)
		}
		if _, err := OpenNoSymlinks(root, p, 0); !errors.Is(err, unix.ELOOP) && !errors.Is(err, unix.ENOENT) {
			t.Errorf("OpenNoSymlinks(%q) = %v, want ELOOP", p, err)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "real")); len(ents) != 0 {
		t.Errorf("made %v through a symlink", ents)
	}
	f, created, err := MkdirAllNoSymlinks(root, "/real/a/b", 0o755)
	if err != nil || !created {
		t.Fatalf("MkdirAllNoSymlinks: created %v, %v", created, err)
	}
	f.Close()
	// The kernel's walk, without openat2's fast path.
	f, err = walkRoot(root, "/real/a/../a/b", walkOpts{extra: unix.O_DIRECTORY})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// TestMkdirAllRacingSymlink: while a goroutine exchanges a directory of
// the root with a symlink to a directory outside it, MkdirAll and
// CreateFile below it make nothing outside (CVE-2024-45310).
func TestMkdirAllRacingSymlink(t *testing.T) {
	dir, root := newRoot(t)
	outside := t.TempDir()
	os.Mkdir(filepath.Join(outside, "b"), 0o755)
	a, link := filepath.Join(dir, "a"), filepath.Join(dir, "a.link")
	os.MkdirAll(filepath.Join(a, "b"), 0o755)
	os.Symlink(outside, link)
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				if n%2 == 1 {
					unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, link, unix.RENAME_EXCHANGE)
				}
				done <- n
				return
			default:
			}
			unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, link, unix.RENAME_EXCHANGE)
			n++
		}
	}()
	for i := range 200 {
		p := "/a/b/c" + strconv.Itoa(i)
		if f, _, err := MkdirAll(root, p+"/d", 0o755); err == nil {
			f.Close()
		}
		if f, _, err := CreateFile(root, p+"/file", 0o644); err == nil {
			f.Close()
		}
	}
	close(stop)
	t.Logf("%d swaps", <-done)
	if ents, _ := os.ReadDir(filepath.Join(outside, "b")); len(ents) != 0 {
		t.Fatalf("made %d entries outside the root, such as %s", len(ents), ents[0].Name())
	}
}

func BenchmarkMkdirAllNew(b *testing.B) {
	_, root := newRoot(b)
	i := 0
	for b.Loop() {
		i++
		f, _, err := MkdirAll(root, "/mnt/a/"+strconv.Itoa(i), 0o755)
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
