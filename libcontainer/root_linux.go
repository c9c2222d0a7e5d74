package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrUnsafeRoot is matched by errors.Is on the error for a state root
// that someone other than its user could change.
//
// The state root holds what the runtime acts on as the caller: each
// container's state.json (the pid to signal, the cgroups to kill and
// remove, the hooks delete runs) and compiled seccomp filters. Whoever
// can write there can make the runtime kill any process, run any
// program, or give a container a filter that allows everything. So, as
// containerd asks of its state directory, the root must be the caller's
// own and writable by no one else; a symlink is refused too, since its
// target can change between two commands.
var ErrUnsafeRoot = errors.New("unsafe state root")

// openRoot opens the state root root (an absolute path), making it (mode
// 0700, with its parents) when create is set and it does not exist, and
// checks that it is fit to hold state (see ErrUnsafeRoot). The check is
// one fstat of the fd the caller then works from. A root that does not
// exist, without create, is an error matching os.ErrNotExist.
func openRoot(root string, create bool) (int, error) {
	const flags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Open(root, flags, 0)
	if err == unix.ENOENT && create {
		if err := os.MkdirAll(root, 0o700); err != nil {
			return -1, fmt.Errorf("create state root %s: %w", root, err)
		}
		fd, err = unix.Open(root, flags, 0)
	}
	if err != nil {
		if err == unix.ENOTDIR || err == unix.ELOOP {
			if fi, lerr := os.Lstat(root); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
				return -1, fmt.Errorf("%w %s: is a symlink; give its target as --root", ErrUnsafeRoot, root)
			}
		}
		return -1, fmt.Errorf("open state root %s: %w", root, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("stat state root %s: %w", root, err)
	}
	if err := checkRoot(root, &st, os.Geteuid()); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// checkRoot refuses a state root, described by st, that is not owned by
// euid or that its group or others may write.
func checkRoot(root string, st *unix.Stat_t, euid int) error {
	if int(st.Uid) != euid {
		return fmt.Errorf("%w %s: owned by uid %d, not by the caller (uid %d): its owner could change the state the runtime acts on", ErrUnsafeRoot, root, st.Uid, euid)
	}
	if mode := st.Mode & 0o7777; mode&0o022 != 0 {
		who := "group"
		switch mode & 0o022 {
		case 0o002:
			who = "others"
		case 0o022:
			who = "group and others"
		}
		return fmt.Errorf("%w %s: writable by %s (mode %04o): they could change the state the runtime acts on; chmod go-w it", ErrUnsafeRoot, root, who, mode)
	}
	return nil
}

// List returns the names of the directories under the state root, in
// name order: the containers' ids, and whatever else is there (a stray
// directory, a container whose creation was interrupted), which Load
// tells apart. Hidden names (the runtime's caches) are left out. A root
// that does not exist is an error matching os.ErrNotExist.
func List(root string) ([]string, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	fd, err := openRoot(root, false)
	if err != nil {
		return nil, err
	}
	d := os.NewFile(uintptr(fd), root)
	defer d.Close()
	entries, err := d.ReadDir(-1)
	if err != nil {
		return nil, fmt.Errorf("read state root %s: %w", root, err)
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}
