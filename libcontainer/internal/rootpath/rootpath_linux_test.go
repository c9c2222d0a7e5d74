package rootpath

import (
	"errors"
	"os"
	"path/filepath"
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
		f, err := MkdirAll(root, p, 0o755)
		if err != nil {
			t.Fatalf("MkdirAll(%q): %v", p, err)
		}
		f.Close()
	}
	// Through a symlink dangling inside the root: refused, like
	// pathrs-lite does, or made inside; never outside.
	for _, p := range []string{"abs/x/y", "rel/x"} {
		if f, err := MkdirAll(root, p, 0o755); err == nil {
			f.Close()
		}
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("MkdirAll created %v outside the root", ents)
	}
	for _, p := range []string{"a/b/c", "exists/deep/new", "escape"} {
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
	if _, err := MkdirAll(root, "/file/sub", 0o755); err == nil {
		t.Fatal("MkdirAll through a file succeeded")
	}
}

func BenchmarkMkdirAllExisting(b *testing.B) {
	dir, root := newRoot(b)
	os.MkdirAll(filepath.Join(dir, "dev/pts"), 0o755)
	for b.Loop() {
		f, err := MkdirAll(root, "/dev/pts", 0o755)
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
