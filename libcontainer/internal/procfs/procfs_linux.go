// Package procfs writes and reads procfs files through handles opened on a
// verified, private procfs instance (pathrs-lite's procfs), never through a
// path a container could have mounted over or replaced with a symlink.
package procfs

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	"golang.org/x/sys/unix"
)

// WritePid writes data to /proc/<pid>/<name>.
func WritePid(pid int, name string, data []byte) error {
	return write(func(h *procfs.Handle) (*os.File, error) { return h.OpenPid(pid, name) },
		"/proc/"+strconv.Itoa(pid)+"/"+name, data)
}

// WriteSelf writes data to /proc/self/<name>.
func WriteSelf(name string, data []byte) error {
	return write(func(h *procfs.Handle) (*os.File, error) { return h.OpenSelf(name) },
		"/proc/self/"+name, data)
}

// WriteThreadSelf writes data to /proc/thread-self/<name>: per-thread
// files such as attr/exec must be written by the thread that will exec.
func WriteThreadSelf(name string, data []byte) error {
	h, err := procfs.OpenProcRoot()
	if err != nil {
		return fmt.Errorf("open procfs: %w", err)
	}
	defer h.Close()
	f, closer, err := h.OpenThreadSelf(name)
	if err != nil {
		return fmt.Errorf("open /proc/thread-self/%s: %w", name, err)
	}
	defer closer()
	defer f.Close()
	return writeHandle(f, "/proc/thread-self/"+name, data)
}

// WriteRoot writes data to /proc/<subpath>, e.g. "sys/net/ipv4/ip_forward".
func WriteRoot(subpath string, data []byte) error {
	return write(func(h *procfs.Handle) (*os.File, error) { return h.OpenRoot(subpath) },
		"/proc/"+subpath, data)
}

// ReadPid reads /proc/<pid>/<name>.
func ReadPid(pid int, name string) ([]byte, error) {
	h, err := procfs.OpenProcRoot()
	if err != nil {
		return nil, fmt.Errorf("open procfs: %w", err)
	}
	defer h.Close()
	f, err := h.OpenPid(pid, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := pathrs.Reopen(f, unix.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func write(open func(*procfs.Handle) (*os.File, error), path string, data []byte) error {
	h, err := procfs.OpenProcRoot()
	if err != nil {
		return fmt.Errorf("open procfs: %w", err)
	}
	defer h.Close()
	f, err := open(h)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	return writeHandle(f, path, data)
}

func writeHandle(f *os.File, path string, data []byte) error {
	w, err := pathrs.Reopen(f, unix.O_WRONLY)
	if err != nil {
		return fmt.Errorf("open %s for writing: %w", path, err)
	}
	defer w.Close()
	// procfs files take one write; a short write is an error of its own.
	n, err := w.Write(data)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if n != len(data) {
		return fmt.Errorf("write %s: short write (%d of %d bytes)", path, n, len(data))
	}
	return nil
}
