package rootpath

import (
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// createKind is what a walk makes of a missing last component; missing
// components before it are made directories.
type createKind int

const (
	createNone createKind = iota
	createDir
	createFile
)

type walkOpts struct {
	// follow follows symlinks inside the root; without it a symlink on
	// the way is ELOOP.
	follow bool
	create createKind
	// mode is that of the created last component; directories made on
	// the way to a file get 0o755.
	mode uint32
	// extra may hold O_DIRECTORY: the result must be a directory.
	extra int
}

// maxSymlinks is the kernel's bound on the symlinks of one resolution
// (MAXSYMLINKS).
const maxSymlinks = 40

// walk resolves path inside root one component at a time. Each step is
// a lookup of one name in a directory held open (openat with O_NOFOLLOW,
// which cannot leave it), and ".." pops a handle this walk pushed rather
// than asking the kernel, so neither a ".." nor a symlink, absolute or
// relative, nor a directory renamed meanwhile leads above root. A symlink
// is read from the handle opened on it, so what is followed is what was
// looked up. Missing components are made with mkdirat (or openat O_CREAT
// for a file) in the directory held, then looked up again like any other:
// if the container swapped a symlink in, it is followed inside the root,
// or refused, like one the image had.
func walk(root *os.File, path string, o walkOpts) (*os.File, bool, error) {
	w := walker{root: int(root.Fd())}
	defer w.closeAll()
	rest := split(path)
	links, retries := 0, 0
	created := false
	for len(rest) > 0 {
		name := rest[0]
		rest = rest[1:]
		if name == ".." {
			w.pop()
			continue
		}
		last := len(rest) == 0
		fd, err := unix.Openat(w.cur(), name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err == unix.ENOENT && o.create != createNone {
			if retries++; retries > maxRetries {
				return nil, false, &os.PathError{Op: "create", Path: path, Err: unix.EAGAIN}
			}
			file := last && o.create == createFile
			mode := o.mode
			if o.create == createFile && !file {
				mode = 0o755
			}
			switch err := w.make(name, file, mode); err {
			case nil:
				created = last
			case unix.EEXIST:
				// Made meanwhile, by someone else: look at it.
			default:
				op := "mkdir"
				if file {
					op = "create"
				}
				return nil, false, &os.PathError{Op: op, Path: path, Err: err}
			}
			rest = append([]string{name}, rest...)
			continue
		}
		if err != nil {
			return nil, false, &os.PathError{Op: "open", Path: path, Err: err}
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return nil, false, &os.PathError{Op: "stat", Path: path, Err: err}
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			target, err := readlinkFD(fd)
			unix.Close(fd)
			if err != nil {
				return nil, false, &os.PathError{Op: "readlink", Path: path, Err: err}
			}
			if !o.follow {
				return nil, false, &os.PathError{Op: "open", Path: path, Err: unix.ELOOP}
			}
			if links++; links > maxSymlinks {
				return nil, false, &os.PathError{Op: "open", Path: path, Err: unix.ELOOP}
			}
			if strings.HasPrefix(target, "/") {
				w.popAll()
			}
			created = false
			rest = append(split(target), rest...)
		case unix.S_IFDIR:
			w.push(fd)
		default:
			if !last {
				unix.Close(fd)
				return nil, false, &os.PathError{Op: "open", Path: path, Err: unix.ENOTDIR}
			}
			w.push(fd)
		}
	}
	f, err := w.result(path)
	if err != nil {
		return nil, false, err
	}
	if o.extra&unix.O_DIRECTORY != 0 {
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
			f.Close()
			return nil, false, &os.PathError{Op: "open", Path: path, Err: unix.ENOTDIR}
		}
	}
	return f, created, nil
}

// split lists the components of path that name something: "" and "."
// say nothing.
func split(path string) []string {
	parts := strings.Split(path, "/")
	out := parts[:0]
	for _, p := range parts {
		if p != "" && p != "." {
			out = append(out, p)
		}
	}
	return out
}

func readlinkFD(fd int) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(fd, "", buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

// walker holds the directories of a walk, from the root down.
type walker struct {
	root  int
	stack []int
}

func (w *walker) cur() int {
	if len(w.stack) == 0 {
		return w.root
	}
	return w.stack[len(w.stack)-1]
}

func (w *walker) push(fd int) { w.stack = append(w.stack, fd) }

// pop goes up one directory; at the root it stays, as ".." does there.
func (w *walker) pop() {
	if n := len(w.stack); n > 0 {
		unix.Close(w.stack[n-1])
		w.stack = w.stack[:n-1]
	}
}

func (w *walker) popAll() {
	for len(w.stack) > 0 {
		w.pop()
	}
}

func (w *walker) closeAll() { w.popAll() }

func (w *walker) make(name string, file bool, mode uint32) error {
	if !file {
		return unix.Mkdirat(w.cur(), name, mode)
	}
	fd, err := unix.Openat(w.cur(), name, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, mode)
	if err == nil {
		unix.Close(fd)
	}
	return err
}

// result hands the handle the walk ended on to the caller.
func (w *walker) result(path string) (*os.File, error) {
	if n := len(w.stack); n > 0 {
		fd := w.stack[n-1]
		w.stack = w.stack[:n-1]
		return os.NewFile(uintptr(fd), path), nil
	}
	fd, err := unix.FcntlInt(uintptr(w.root), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "dup", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}
