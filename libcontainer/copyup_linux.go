package libcontainer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"

	"golang.org/x/sys/unix"
)

// copyUp copies the contents of the directory src (the mount point a
// tmpfs is about to cover) into the root of the detached tmpfs dst, as
// the tmpcopyup option asks: podman's --tmpfs keeps what the image has
// there. Files, directories, symlinks and special files are copied with
// their owner, mode (setuid, setgid and sticky bits included) and times;
// hard links stay links. Nothing is followed: every entry is opened with
// O_NOFOLLOW relative to its directory's handle, so a symlink in the image
// is copied as a symlink, never read through.
func copyUp(src, dst *os.File) error {
	from, err := unix.Openat(int(src.Fd()), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open mount point: %w", err)
	}
	to, err := unix.Openat(int(dst.Fd()), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(from)
		return fmt.Errorf("open tmpfs: %w", err)
	}
	c := &copier{root: to, links: map[fileID]string{}}
	err = c.dir(from, to, "")
	unix.Close(from)
	unix.Close(to)
	return err
}

type fileID struct{ dev, ino uint64 }

type copier struct {
	root int
	// links maps a file with more than one link to where its first
	// copy is, relative to the tmpfs root.
	links map[fileID]string
}

// dir copies the entries of from into to; rel is where they are.
func (c *copier) dir(from, to int, rel string) error {
	// Readdirnames needs an *os.File, which closes its fd: give it a
	// copy, from stays the caller's.
	dup, err := unix.FcntlInt(uintptr(from), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return err
	}
	d := os.NewFile(uintptr(dup), "/"+rel)
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return fmt.Errorf("read /%s: %w", rel, err)
	}
	for _, name := range names {
		if err := c.entry(from, to, name, path.Join(rel, name)); err != nil {
			return err
		}
	}
	return nil
}

func (c *copier) entry(from, to int, name, rel string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(from, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil // gone meanwhile
		}
		return fmt.Errorf("stat /%s: %w", rel, err)
	}
	id := fileID{uint64(st.Dev), st.Ino}
	kind := st.Mode & unix.S_IFMT
	if kind != unix.S_IFDIR && st.Nlink > 1 {
		if first, ok := c.links[id]; ok {
			if err := unix.Linkat(c.root, first, to, name, 0); err != nil {
				return fmt.Errorf("link /%s to /%s: %w", rel, first, err)
			}
			return nil
		}
		c.links[id] = rel
	}
	var err error
	switch kind {
	case unix.S_IFDIR:
		err = c.subdir(from, to, name, rel, &st)
	case unix.S_IFREG:
		err = copyFileAt(from, to, name, &st)
	case unix.S_IFLNK:
		err = copySymlinkAt(from, to, name)
	default:
		err = unix.Mknodat(to, name, st.Mode, int(st.Rdev))
	}
	if err != nil {
		return fmt.Errorf("copy /%s: %w", rel, err)
	}
	if err := setAttrsAt(to, name, &st); err != nil {
		return fmt.Errorf("copy /%s: %w", rel, err)
	}
	return nil
}

func (c *copier) subdir(from, to int, name, rel string, st *unix.Stat_t) error {
	if err := unix.Mkdirat(to, name, 0o700); err != nil {
		return err
	}
	sfd, err := unix.Openat(from, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(sfd)
	dfd, err := unix.Openat(to, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	return c.dir(sfd, dfd, rel)
}

func copyFileAt(from, to int, name string, st *unix.Stat_t) error {
	sfd, err := unix.Openat(from, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	src := os.NewFile(uintptr(sfd), name)
	defer src.Close()
	dfd, err := unix.Openat(to, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	dst := os.NewFile(uintptr(dfd), name)
	defer dst.Close()
	// A file swapped for another kind since the stat is not copied
	// as what it is not.
	var now unix.Stat_t
	if err := unix.Fstat(sfd, &now); err != nil {
		return err
	}
	if now.Mode&unix.S_IFMT != unix.S_IFREG || now.Ino != st.Ino {
		return errors.New("changed while copied")
	}
	_, err = io.Copy(dst, src)
	return err
}

func copySymlinkAt(from, to int, name string) error {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(from, name, buf)
	if err != nil {
		return err
	}
	return unix.Symlinkat(string(buf[:n]), to, name)
}

// setAttrsAt gives the copy of name its source's owner, mode and times,
// the owner first: a chown clears the setuid and setgid bits.
func setAttrsAt(to int, name string, st *unix.Stat_t) error {
	if err := unix.Fchownat(to, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		if err := unix.Fchmodat(to, name, st.Mode&0o7777, 0); err != nil {
			return fmt.Errorf("chmod: %w", err)
		}
	}
	times := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(to, name, times, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times: %w", err)
	}
	return nil
}
