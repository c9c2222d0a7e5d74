package selfexe

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

func checkReadonlyCopyOfSelf(t *testing.T, f *os.File) {
	t.Helper()
	path := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	// A read-only bind refuses the open; a sealed memfd, the write.
	if w, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
		_, err = w.Write([]byte("x"))
		w.Close()
		if !errors.Is(err, unix.EPERM) {
			t.Fatalf("write to the protected binary: %v, want EPERM", err)
		}
	} else if !errors.Is(err, unix.EROFS) && !errors.Is(err, unix.ETXTBSY) {
		t.Fatalf("open for writing: %v, want EROFS", err)
	} else {
		// ETXTBSY only says the binary runs; the mount must still be
		// read-only for when it no longer does.
		var st unix.Statfs_t
		if err := unix.Fstatfs(int(f.Fd()), &st); err != nil || st.Flags&unix.ST_RDONLY == 0 {
			t.Fatalf("the binary's mount is not read-only (flags %#x, %v)", st.Flags, err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the protected handle is not this binary")
	}
}

func TestReadonlyBind(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a bind mount needs root")
	}
	f, err := readonlyBind()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checkReadonlyCopyOfSelf(t, f)
}

func TestSealedCopy(t *testing.T) {
	f, err := sealedCopy()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checkReadonlyCopyOfSelf(t, f)
}

func BenchmarkOpen(b *testing.B) {
	for b.Loop() {
		f, err := Open()
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
