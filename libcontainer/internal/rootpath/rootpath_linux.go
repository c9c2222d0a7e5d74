// Package rootpath resolves paths inside a container's root filesystem as
// if the root were "/": symlinks and ".." never lead out of it, even when
// the container swaps a directory for a symlink while we resolve.
//
// The fast path is openat2(2) with RESOLVE_IN_ROOT, which does the
// containment in the kernel in one syscall, for what the runtime does
// dozens of times per container start. What it cannot do (create what is
// missing without following a symlink) is a walk one component at a time
// from handles held open, in walk_linux.go; pathrs-lite does the rest.
//
// Do not use it for paths outside a container's rootfs: a host path needs
// no containment, and the walk costs a syscall or two per component.
package rootpath

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// maxRetries bounds the retries of a resolution the kernel aborted
// because a rename raced it (EAGAIN).
const maxRetries = 32

// Open returns an O_PATH handle of path inside root, following symlinks
// inside root. extra flags may add O_DIRECTORY or O_NOFOLLOW.
func Open(root *os.File, path string, extra int) (*os.File, error) {
	fd, err := openat2(int(root.Fd()), path, extra, unix.RESOLVE_IN_ROOT|unix.RESOLVE_NO_MAGICLINKS)
	if errors.Is(err, unix.ENOSYS) {
		return pathrs.OpenatInRoot(root, path)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// OpenNoSymlinks is Open refusing any symlink on the way (ELOOP): for the
// places whose meaning the kernel fixes (/proc, /sys), where a symlink in
// the image could only be an attack (CVE-2019-16884, CVE-2023-27561).
func OpenNoSymlinks(root *os.File, path string, extra int) (*os.File, error) {
	fd, err := openat2(int(root.Fd()), path, extra, unix.RESOLVE_IN_ROOT|unix.RESOLVE_NO_SYMLINKS)
	if errors.Is(err, unix.ENOSYS) {
		return walkRoot(root, path, walkOpts{extra: extra})
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// OpenBeneath returns an O_PATH handle of path below dir, refusing
// symlinks and ".." that would leave it: for paths inside a filesystem
// the kernel made, such as a procfs mount's kcore.
func OpenBeneath(dir *os.File, path string, extra int) (*os.File, error) {
	fd, err := openat2(int(dir.Fd()), path, extra, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_SYMLINKS)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

func openat2(dirfd int, path string, extra int, resolve uint64) (int, error) {
	how := &unix.OpenHow{Flags: uint64(unix.O_PATH | unix.O_CLOEXEC | extra), Resolve: resolve}
	for i := 0; ; i++ {
		fd, err := unix.Openat2(dirfd, path, how)
		if err != unix.EAGAIN || i == maxRetries {
			return fd, err
		}
	}
}

// MkdirAll returns a handle of the directory path inside root, creating
// it and its missing parents with mode. A component created here is
// opened without following symlinks, so one swapped in for it cannot
// redirect what follows (CVE-2024-45310).
func MkdirAll(root *os.File, path string, mode uint32) (*os.File, error) {
	path = filepath.Clean("/" + path)
	f, err := Open(root, path, unix.O_DIRECTORY)
	if !errors.Is(err, unix.ENOENT) {
		return f, err
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	// The deepest ancestor that exists.
	i := len(parts) - 1
	var dir *os.File
	for ; i >= 0; i-- {
		dir, err = Open(root, "/"+strings.Join(parts[:i], "/"), unix.O_DIRECTORY)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.ENOENT) {
			return nil, err
		}
	}
	if dir == nil {
		return nil, &os.PathError{Op: "mkdir", Path: path, Err: unix.ENOENT}
	}
	for _, name := range parts[i:] {
		if err := unix.Mkdirat(int(dir.Fd()), name, mode); err != nil && err != unix.EEXIST {
			dir.Close()
			return nil, &os.PathError{Op: "mkdir", Path: path, Err: err}
		}
		fd, err := openat2(int(dir.Fd()), name, unix.O_DIRECTORY, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_SYMLINKS)
		dir.Close()
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.EXDEV) {
			// A symlink the image put there (or just swapped in):
			// pathrs-lite follows it inside the root, or refuses.
			return pathrs.MkdirAllHandle(root, path, os.FileMode(mode))
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		dir = os.NewFile(uintptr(fd), name)
	}
	return dir, nil
}

// MkdirAllNoSymlinks is MkdirAll refusing any symlink on the way (ELOOP).
func MkdirAllNoSymlinks(root *os.File, path string, mode uint32) (*os.File, error) {
	if f, err := OpenNoSymlinks(root, path, unix.O_DIRECTORY); !errors.Is(err, unix.ENOENT) {
		return f, err
	}
	return walkRoot(root, path, walkOpts{create: createDir, mode: mode})
}

// walkRoot is walk for callers that need only the handle.
func walkRoot(root *os.File, path string, o walkOpts) (*os.File, error) {
	f, _, err := walk(root, path, o)
	return f, err
}

// Clean is path as the runtime means it inside a rootfs: absolute and
// lexically clean.
func Clean(path string) string {
	return filepath.Clean("/" + path)
}
