package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/internal/phase"
	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/configs/validate"
)

// maxIDLen bounds an id so <root>/<id>/state.json stays a valid path.
const maxIDLen = 1024

// Container is a container in a state directory. Its methods may be called
// from several goroutines and processes: each operation takes the lock of
// the state directory.
type Container struct {
	id   string
	root string
	dir  string

	mu    sync.Mutex
	state *State
	// stateStamp is the version of state.json that state holds.
	stateStamp stateStamp
	stampOK    bool
	// initProc is init when this process started it, so that the
	// Process it was given can be waited for.
	initProc *Process
	// cgroupAhead is the cgroup manager Create began making for Start.
	cgroupAhead *cgroupAhead
}

// ValidateID reports whether id can name a container: 1 to 1024 of
// [A-Za-z0-9_+.-], not starting with a dot, so it is a single path
// element and no hidden entry of the state root.
func ValidateID(id string) error {
	if id == "" || len(id) > maxIDLen {
		return fmt.Errorf("%w %q: length must be 1 to %d", ErrInvalidID, id, maxIDLen)
	}
	if id[0] == '.' {
		// Hidden names are the runtime's own (caches) in a state root.
		return fmt.Errorf("%w %q: must not start with a dot", ErrInvalidID, id)
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '_' || r == '+' || r == '-' || r == '.'
		if !ok {
			return fmt.Errorf("%w %q: only letters, digits and _+.- are allowed", ErrInvalidID, id)
		}
	}
	return nil
}

// Create validates config and makes the container's state directory
// <root>/<id>. Nothing runs until Start or Run.
func Create(root, id string, config *configs.Config) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	if config == nil {
		return nil, opError("create", id, fmt.Errorf("%w: nil config", validate.ErrInvalid))
	}
	phase.Mark("create:begin")
	if os.Geteuid() != 0 && !config.RootlessEUID {
		// Without root, the container needs what rootless implies (a
		// user namespace, cgroups only where delegated): say so.
		cp := *config
		cp.RootlessEUID, cp.RootlessCgroups = true, true
		config = &cp
	}
	if err := validate.Validate(config); err != nil {
		return nil, opError("create", id, err)
	}
	if err := checkNetDevicesOnHost(config); err != nil {
		return nil, opError("create", id, err)
	}
	if err := checkSystemdSlice(config.Cgroups); err != nil {
		return nil, opError("create", id, err)
	}
	phase.Mark("create:validated")
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	rootFD, err := openRoot(root, true)
	if err != nil {
		return nil, opError("create", id, err)
	}
	err = unix.Mkdirat(rootFD, id, 0o711)
	unix.Close(rootFD)
	dir := filepath.Join(root, id)
	if err != nil {
		if errors.Is(err, unix.EEXIST) {
			return nil, opError("create", id, ErrExist)
		}
		return nil, opError("create", id, fmt.Errorf("make state directory %s: %w", dir, err))
	}
	c := &Container{id: id, root: root, dir: dir, cgroupAhead: newCgroupAhead(config)}
	faultPoint("create:dir-made")
	unlock, err := c.lock()
	if err == nil {
		defer unlock()
		c.state = &State{ID: id, Created: time.Now().UTC(), Config: *config}
		err = c.saveState(c.state)
		faultPoint("create:state-saved")
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, opError("create", id, err)
	}
	return c, nil
}

// Load opens the container id under root.
func Load(root, id string) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	rootFD, err := openRoot(root, false)
	if errors.Is(err, os.ErrNotExist) {
		return nil, opError("", id, ErrNotExist)
	}
	if err != nil {
		return nil, err
	}
	c := &Container{id: id, root: root, dir: filepath.Join(root, id)}
	unlock, err := c.lockAt(rootFD, id)
	unix.Close(rootFD)
	if err != nil {
		return nil, err
	}
	_, err = c.refreshState()
	unlock()
	if err != nil {
		return nil, err
	}
	return c, nil
}

// lock takes the lock of the state directory, serialising operations on
// the container across goroutines and processes.
func (c *Container) lock() (func(), error) {
	return c.lockAt(unix.AT_FDCWD, c.dir)
}

// lockAt is lock with the state directory at path from dirfd: Load opens
// it from the state root it has just checked.
func (c *Container) lockAt(dirfd int, path string) (func(), error) {
	fd, err := unix.Openat(dirfd, path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, opError("", c.id, ErrNotExist)
		}
		return nil, fmt.Errorf("open state directory %s: %w", c.dir, err)
	}
	for {
		err = unix.Flock(fd, unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lock state directory %s: %w", c.dir, err)
	}
	// Destroy may have removed the directory while we waited.
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Nlink == 0 {
		unix.Close(fd)
		return nil, opError("", c.id, ErrNotExist)
	}
	return func() { unix.Close(fd) }, nil
}

// ID is the container's id.
func (c *Container) ID() string { return c.id }

// Config returns the container's configuration.
func (c *Container) Config() configs.Config {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state.Config
}
