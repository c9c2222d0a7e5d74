package libcontainer

import (
	"errors"
	"fmt"
	"os"

	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/internal/initsync"
	"github.com/corral-oci/corral/libcontainer/internal/posenc"
)

// bindSourceRequest is init's BindSource message.
type bindSourceRequest struct {
	Source string
}

// requestBindSource asks the runtime for a handle of a bind source, in
// init's mount namespace, that init could not open itself.
func requestBindSource(sock *os.File, source string) (*os.File, error) {
	if err := initsync.Send(sock, initsync.BindSource, &bindSourceRequest{Source: source}); err != nil {
		return nil, err
	}
	if err := initsync.Expect(sock, initsync.BindSourceFD, nil); err != nil {
		return nil, err
	}
	fd, err := initsync.RecvFD(sock)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), source), nil
}

// serveBindSource answers a BindSource request of init (pid): the runtime,
// host root, opens the source from init's root directory, so in init's
// mount namespace with the host's mounts as init has them (and the flags
// the kernel locked on them), before init enters what the source path
// may lead to. It is opened O_PATH: nothing of it is read here. The path
// is the config's, trusted as the rest of it, and resolved inside init's
// root so that its symlinks mean what they mean to init.
func serveBindSource(sock *os.File, pid int, data []byte) error {
	var req bindSourceRequest
	if err := posenc.Unmarshal(data, &req); err != nil {
		return fmt.Errorf("decode bind-source message: %w", err)
	}
	f, err := openInRootOf(pid, req.Source)
	if err != nil {
		return initsync.Send(sock, initsync.Error, initsync.NewError("mount", err))
	}
	defer f.Close()
	return initsync.SendFD(sock, initsync.BindSourceFD, int(f.Fd()))
}

// openInRootOf opens path as seen from the root directory of process pid.
func openInRootOf(pid int, path string) (*os.File, error) {
	proc, err := procfs.OpenProcRoot()
	if err != nil {
		return nil, fmt.Errorf("open procfs: %w", err)
	}
	defer proc.Close()
	pidDir, err := proc.OpenPid(pid, ".")
	if err != nil {
		return nil, fmt.Errorf("open /proc/%d: %w", pid, err)
	}
	defer pidDir.Close()
	// The magic link root leads to init's root, in its mount namespace.
	rootFD, err := unix.Openat(int(pidDir.Fd()), "root", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open the root of init: %w", err)
	}
	defer unix.Close(rootFD)
	fd, err := unix.Openat2(rootFD, path, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.ENOENT) {
		return nil, errors.New("source does not exist")
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}
