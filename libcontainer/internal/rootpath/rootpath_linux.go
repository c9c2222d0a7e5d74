// Package rootpath resolves paths inside a container's root filesystem as
// if the root were "/": symlinks and ".." never lead out of it, even when
// the container swaps a directory for a symlink while we resolve.
//
// The fast path is openat2(2) with RESOLVE_IN_ROOT, which does the
// containment in the kernel in one syscall, for what the runtime does
// dozens of times per container start. What it cannot do (create what is
// missing, follow a symlink whose target does not exist yet, as runc does
// for mount points) is a walk one component at a time from handles held
// open, in walk_linux.go.
//
// Do not use it for paths outside a container's rootfs: a host path needs
// no containment, and the walk costs a syscall or two per component.
package rootpath

import (
	"errors"
	"os"
	"path/filepath"

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
// it and its missing parents with mode. Symlinks are followed inside
// root, and one that dangles has its target created, as runc does for a
// mount point: MkdirAll(root, "/var/run", 0o755) with /var/run -> /run
// and no /run makes /run. A component created here is opened without
// following symlinks, so one swapped in for it cannot redirect what
// follows (CVE-2024-45310). created reports whether the directory itself
// was made here.
func MkdirAll(root *os.File, path string, mode uint32) (f *os.File, created bool, err error) {
	if f, err := Open(root, path, unix.O_DIRECTORY); !errors.Is(err, unix.ENOENT) {
		return f, false, err
	}
	return walk(root, path, walkOpts{follow: true, create: createDir, mode: mode})
}

// MkdirAllNoSymlinks is MkdirAll refusing any symlink on the way (ELOOP).
func MkdirAllNoSymlinks(root *os.File, path string, mode uint32) (*os.File, bool, error) {
	if f, err := OpenNoSymlinks(root, path, unix.O_DIRECTORY); !errors.Is(err, unix.ENOENT) {
		return f, false, err
	}
	return walk(root, path, walkOpts{create: createDir, mode: mode})
}

// CreateFile returns a handle of what is at path inside root, making an
// empty regular file with mode (and its parent directories, 0o755) when
// nothing is there. Symlinks are followed inside root, a dangling one
// to the file it names. The handle may be of a directory: the caller
// decides whether that will do.
func CreateFile(root *os.File, path string, mode uint32) (*os.File, bool, error) {
	if f, err := Open(root, path, 0); !errors.Is(err, unix.ENOENT) {
		return f, false, err
	}
	return walk(root, path, walkOpts{follow: true, create: createFile, mode: mode})
}

// walkRoot resolves without creating, refusing symlinks: OpenNoSymlinks
// on a kernel without openat2.
func walkRoot(root *os.File, path string, o walkOpts) (*os.File, error) {
	f, _, err := walk(root, path, o)
	return f, err
}

// Clean is path as the runtime means it inside a rootfs: absolute and
// lexically clean.
func Clean(path string) string {
	return filepath.Clean("/" + path)
}
