package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/internal/mountfd"
)

// setupConsole gives the process a new terminal from the container's own
// devpts: the master goes to the console socket, the peer becomes the
// process's stdio and controlling terminal, and for init also
// /dev/console.
func setupConsole(s *setup, isInit bool) error {
	master, err := openPtmx()
	if err != nil {
		return err
	}
	defer master.Close()
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		return fmt.Errorf("unlock pty: %w", err)
	}
	// TIOCGPTPEER opens the peer from the master itself, so no path
	// under /dev/pts the container controls is involved.
	peerFD, _, errno := unix.Syscall(unix.SYS_IOCTL, master.Fd(), unix.TIOCGPTPEER,
		uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if errno != 0 {
		return fmt.Errorf("open pty peer: %w", errno)
	}
	peer := os.NewFile(peerFD, "pty-peer")
	defer peer.Close()
	if s.Process.ConsoleWidth > 0 && s.Process.ConsoleHeight > 0 {
		ws := &unix.Winsize{Col: s.Process.ConsoleWidth, Row: s.Process.ConsoleHeight}
		if err := unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws); err != nil {
			return fmt.Errorf("set console size: %w", err)
		}
	}
	if isInit {
		if err := mountConsole(peer); err != nil {
			return err
		}
	}
	if err := sendConsole(s.ConsoleSocketFD, master); err != nil {
		return err
	}
	if isInit {
		// An exec'd process's session is made by the program's own
		// process (nsenter.Start), which the setup is not.
		if _, err := unix.Setsid(); err != nil {
			return fmt.Errorf("setsid: %w", err)
		}
		if err := unix.IoctlSetInt(int(peer.Fd()), unix.TIOCSCTTY, 0); err != nil {
			return fmt.Errorf("set controlling terminal: %w", err)
		}
	}
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup3(int(peer.Fd()), fd, 0); err != nil {
			return fmt.Errorf("dup pty onto fd %d: %w", fd, err)
		}
	}
	return nil
}

// giveStdio makes the process's stdio its user's, as runc does: the
// terminal setupConsole made as root (a user that does not own its
// terminal cannot open it again by its name, /dev/pts/N, as screen and
// tmux do: "Cannot open your terminal"), and pipes and sockets the caller
// made (a user that does not own them cannot open /dev/stdout, which
// images link their logs to). The terminal's group stays the one devpts
// gave it (its gid= option, the tty group). Unlike runc, anything else is
// left as it is: a host file or device as stdio (runc run -d </dev/zero)
// is the host's, and runc would give it to the container's user.
func giveStdio(terminal bool, uid int) error {
	for fd := 0; fd < 3; fd++ {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			if errors.Is(err, unix.EBADF) {
				continue
			}
			return fmt.Errorf("stat fd %d: %w", fd, err)
		}
		if int(st.Uid) == uid || !ownedByProcess(fd, &st, terminal) {
			continue
		}
		err := unix.Fchown(fd, uid, -1)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EPERM) {
			// The user, or the file's owner, is not mapped in the
			// container's user namespace: runc leaves the file as it
			// is then, and so do we.
			continue
		}
		if err != nil {
			return fmt.Errorf("chown fd %d to uid %d: %w", fd, uid, err)
		}
	}
	return nil
}

// ownedByProcess reports whether the stdio fd is the process's own: its
// terminal, or an anonymous pipe or socket, which exists for nothing
// but this process's stdio.
func ownedByProcess(fd int, st *unix.Stat_t, terminal bool) bool {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		return terminal
	case unix.S_IFIFO, unix.S_IFSOCK:
		// A named pipe is a file of the host's.
		var fs unix.Statfs_t
		return unix.Fstatfs(fd, &fs) == nil && (fs.Type == unix.PIPEFS_MAGIC || fs.Type == unix.SOCKFS_MAGIC)
	}
	return false
}

// openPtmx opens the multiplexer of the container's devpts instance and
// checks it is one.
func openPtmx() (*os.File, error) {
	var err error
	for _, path := range []string{"/dev/pts/ptmx", "/dev/ptmx"} {
		var f *os.File
		f, err = os.OpenFile(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		var fs unix.Statfs_t
		if err = unix.Fstatfs(int(f.Fd()), &fs); err == nil && fs.Type == unix.DEVPTS_SUPER_MAGIC {
			return f, nil
		}
		f.Close()
		err = fmt.Errorf("%s is not on a devpts filesystem", path)
	}
	return nil, fmt.Errorf("open pty multiplexer (is devpts mounted on /dev/pts?): %w", err)
}

// mountConsole binds the pty peer onto /dev/console. The mount point is
// created without following symlinks: an image's /dev/console symlink
// must not redirect the bind (CVE-2025-52565).
func mountConsole(peer *os.File) error {
	dev, err := os.OpenFile("/dev", unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /dev: %w", err)
	}
	defer dev.Close()
	target, err := createFileAt(dev, "console")
	if err != nil {
		return fmt.Errorf("create /dev/console: %w", err)
	}
	defer target.Close()
	if err := mountfd.BindFile(peer, target); err != nil {
		return fmt.Errorf("bind pty onto /dev/console: %w", err)
	}
	return nil
}

// createFileAt makes an empty regular file name in dir to mount over,
// replacing anything but a directory or a regular file, and returns an
// O_PATH handle. A regular file is kept: the mount covers that name only,
// and a read-only /dev has its mount points made beforehand.
func createFileAt(dir *os.File, name string) (*os.File, error) {
	dfd := int(dir.Fd())
	var st unix.Stat_t
	if err := unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil {
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			return nil, fmt.Errorf("%s is a directory", name)
		}
		if st.Mode&unix.S_IFMT == unix.S_IFREG {
			if f, err := openRegularAt(dfd, name); err == nil {
				return f, nil
			}
		}
		if err := unix.Unlinkat(dfd, name, 0); err != nil {
			return nil, err
		}
	}
	fd, err := unix.Openat(dfd, name, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	unix.Close(fd)
	fd, err = unix.Openat(dfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

// openRegularAt opens name in dirfd, without following a symlink, if it
// is a regular file.
func openRegularAt(dirfd int, name string) (*os.File, error) {
	fd, err := unix.Openat(dirfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, unix.EEXIST
	}
	return os.NewFile(uintptr(fd), name), nil
}

// sendConsole sends the pty master, named after its /dev/pts entry as
// runc's console socket clients expect, over the console socket.
func sendConsole(sockFD int, master *os.File) error {
	if sockFD <= 0 {
		return errors.New("a terminal was asked for without a console socket")
	}
	name := "/dev/ptmx"
	if n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN); err == nil {
		name = "/dev/pts/" + strconv.Itoa(n)
	}
	rights := unix.UnixRights(int(master.Fd()))
	if err := unix.Sendmsg(sockFD, []byte(name), rights, nil, 0); err != nil {
		return fmt.Errorf("send pty master over the console socket: %w", err)
	}
	unix.Close(sockFD)
	return nil
}
