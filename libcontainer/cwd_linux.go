package libcontainer

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/internal/rootpath"
)

// makeCwd creates init's working directory, and its missing parents,
// when the rootfs lacks it, as runc does: Kubernetes' workingDir need
// not exist in the image, and containerd's CRI plugin leaves making it
// to the runtime (docker makes it itself). It runs after the mounts, so
// that a cwd inside a volume is made in the volume, and before anything
// is made read-only; as root, mode 0755, resolved inside the rootfs like
// a mount point. Only a missing path is made: any other failure to
// resolve it (a magic link, a directory root may not search) is left to
// the change of directory, which reports it with the process's
// credentials. A process exec'd later gets no such help, as with runc:
// its cwd must exist.
func (r *rootfs) makeCwd() error {
	cwd := r.s.Process.Cwd
	if cwd == "" || cwd == "/" {
		return nil
	}
	f, err := rootpath.Open(r.dir, cwd, unix.O_DIRECTORY)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, unix.ENOENT) {
		return nil
	}
	if f, _, err = rootpath.MkdirAll(r.dir, cwd, 0o755); err != nil {
		return fmt.Errorf("process.cwd %q: %w", cwd, err)
	}
	return f.Close()
}
