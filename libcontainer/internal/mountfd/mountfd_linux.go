// Package mountfd mounts by file descriptor: targets are handles opened
// inside the container's rootfs, and bind sources are detached mount trees
// (open_tree), so a symlink the container swaps in between the lookup and
// the mount cannot send a mount elsewhere.
package mountfd

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Path is the magic link of f, for the syscalls that only take paths.
// It resolves to exactly the file f refers to.
func Path(f *os.File) string {
	return "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
}

// Mount is mount(2) onto the handle target.
func Mount(source string, target *os.File, fstype string, flags uintptr, data string) error {
	if err := unix.Mount(source, Path(target), fstype, flags, data); err != nil {
		return &os.PathError{Op: "mount " + fstype, Path: target.Name(), Err: err}
	}
	return nil
}

// CloneTree returns a detached copy of the mount at path (relative to
// dir, or dir itself when path is ""), with its submounts when recursive.
func CloneTree(dir *os.File, path string, recursive bool) (*os.File, error) {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	dfd := unix.AT_FDCWD
	if dir != nil {
		dfd = int(dir.Fd())
	}
	if path == "" {
		flags |= unix.AT_EMPTY_PATH
	}
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	fd, err := unix.OpenTree(dfd, path, flags)
	if err != nil {
		name := path
		if name == "" && dir != nil {
			name = dir.Name()
		}
		return nil, &os.PathError{Op: "open_tree", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), "tree:"+path), nil
}

// SetAttr changes the attributes of a mount (tree), of all of its
// submounts too when recursive.
func SetAttr(tree *os.File, attr *unix.MountAttr, recursive bool) error {
	flags := uint(unix.AT_EMPTY_PATH)
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	if err := unix.MountSetattr(int(tree.Fd()), "", flags, attr); err != nil {
		return &os.PathError{Op: "mount_setattr", Path: tree.Name(), Err: err}
	}
	return nil
}

// Attach moves the detached tree onto target.
func Attach(tree, target *os.File) error {
	err := unix.MoveMount(int(tree.Fd()), "", int(target.Fd()), "",
		unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH)
	if err != nil {
		return &os.PathError{Op: "move_mount", Path: target.Name(), Err: err}
	}
	return nil
}

// BindFile binds the file src refers to onto target.
func BindFile(src, target *os.File) error {
	tree, err := CloneTree(src, "", false)
	if err != nil {
		return err
	}
	defer tree.Close()
	return Attach(tree, target)
}

// The MS_* flags that are attributes of a mount rather than of its
// filesystem, with their MOUNT_ATTR_* equivalents.
var attrOfFlag = []struct {
	flag int
	attr uint64
}{
	{unix.MS_RDONLY, unix.MOUNT_ATTR_RDONLY},
	{unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID},
	{unix.MS_NODEV, unix.MOUNT_ATTR_NODEV},
	{unix.MS_NOEXEC, unix.MOUNT_ATTR_NOEXEC},
	{unix.MS_NODIRATIME, unix.MOUNT_ATTR_NODIRATIME},
	{unix.MS_NOSYMFOLLOW, unix.MOUNT_ATTR_NOSYMFOLLOW},
}

// atimeFlags select one access-time mode.
const atimeFlags = unix.MS_NOATIME | unix.MS_RELATIME | unix.MS_STRICTATIME

// AttrFromFlags turns the MS_* flags a config sets and clears into the
// mount_setattr form. Flags not named are left as the source mount has
// them, as a bind mount remount would.
func AttrFromFlags(set, clear int) *unix.MountAttr {
	a := &unix.MountAttr{}
	for _, m := range attrOfFlag {
		if set&m.flag != 0 {
			a.Attr_set |= m.attr
		} else if clear&m.flag != 0 {
			a.Attr_clr |= m.attr
		}
	}
	if set&atimeFlags != 0 || clear&atimeFlags != 0 {
		a.Attr_clr |= unix.MOUNT_ATTR__ATIME
		switch {
		case set&unix.MS_NOATIME != 0:
			a.Attr_set |= unix.MOUNT_ATTR_NOATIME
		case set&unix.MS_STRICTATIME != 0:
			a.Attr_set |= unix.MOUNT_ATTR_STRICTATIME
		default:
			a.Attr_set |= unix.MOUNT_ATTR_RELATIME
		}
	}
	return a
}

// IsZero reports whether attr changes nothing.
func IsZero(a *unix.MountAttr) bool {
	return a == nil || (a.Attr_set == 0 && a.Attr_clr == 0 && a.Propagation == 0 && a.Userns_fd == 0)
}

// ReadonlyTmpfs returns a detached, empty, read-only tmpfs to attach over
// a masked directory.
func ReadonlyTmpfs() (*os.File, error) {
	ctx, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("fsopen tmpfs: %w", err)
	}
	defer unix.Close(ctx)
	if err := unix.FsconfigSetString(ctx, "size", "0"); err != nil {
		return nil, fmt.Errorf("fsconfig tmpfs size: %w", err)
	}
	if err := unix.FsconfigSetString(ctx, "mode", "0555"); err != nil {
		return nil, fmt.Errorf("fsconfig tmpfs mode: %w", err)
	}
	if err := unix.FsconfigCreate(ctx); err != nil {
		return nil, fmt.Errorf("fsconfig create tmpfs: %w", err)
	}
	fd, err := unix.Fsmount(ctx, unix.FSMOUNT_CLOEXEC,
		unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return nil, fmt.Errorf("fsmount tmpfs: %w", err)
	}
	return os.NewFile(uintptr(fd), "masked-tmpfs"), nil
}
