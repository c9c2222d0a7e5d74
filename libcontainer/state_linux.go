package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/internal/reflectjson"
	"github.com/corral-oci/corral/libcontainer/internal/bootstrap"
	"github.com/corral-oci/corral/libcontainer/internal/deepcopy"
	"github.com/corral-oci/corral/libcontainer/internal/procstat"
)

const (
	stateFile    = "state.json"
	execFifoName = "exec.fifo"
)

// saveState writes state.json atomically: a reader sees the old or the new
// file, never a torn one, even if the runtime dies mid-write. There is no
// fsync: it cost a start two journal commits, and it would only matter
// after a power loss, which kills every container the file describes; a
// state file torn by one reads as corrupt, and delete removes it. Filling the disk still fails here: file systems
// reserve the blocks of a buffered write when it is made.
func (c *Container) saveState(st *State) error {
	// reflectjson writes what encoding/json would, without first building
	// encoding/json's codec for the whole State.
	b, err := reflectjson.Encode(st)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	f, err := os.CreateTemp(c.dir, ".state-*")
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(c.dir, stateFile))
	}
	if err != nil {
		os.Remove(tmp)
		// st may differ from the file now: read the file next time.
		c.mu.Lock()
		c.stampOK = false
		c.mu.Unlock()
		return opError("write state of", c.id, err)
	}
	c.remember(st)
	return nil
}

// stateStamp identifies one version of state.json: every save renames a
// new file in, with its own inode and change time.
type stateStamp struct {
	ino, size uint64
	ctime     unix.Timespec
}

func (c *Container) stamp() (stateStamp, bool) {
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(c.dir, stateFile), &st); err != nil {
		return stateStamp{}, false
	}
	return stateStamp{ino: st.Ino, size: uint64(st.Size), ctime: st.Ctim}, true
}

// remember keeps st as the state of the file now on disk, so the next
// operation of this process under the lock need not decode it again.
func (c *Container) remember(st *State) {
	stamp, ok := c.stamp()
	c.rememberStamp(st, stamp, ok)
}

// rememberStamp is remember with the stamp of the file already taken.
func (c *Container) rememberStamp(st *State, stamp stateStamp, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state = st
	c.stateStamp, c.stampOK = stamp, ok
}

// refreshState reloads state.json, unless the file is the one this
// process last read or wrote; the caller holds the lock.
func (c *Container) refreshState() (*State, error) {
	stamp, stamped := c.stamp()
	if stamped {
		c.mu.Lock()
		st, fresh := c.state, c.stampOK && c.stateStamp == stamp
		c.mu.Unlock()
		if fresh && st != nil {
			return st, nil
		}
	}
	b, err := os.ReadFile(filepath.Join(c.dir, stateFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			// A Create killed between making the directory and writing
			// the state: nothing else exists yet. It reads as a stopped
			// container with no config, which Destroy removes.
			st := &State{ID: c.id}
			if fi, err := os.Stat(c.dir); err == nil {
				st.Created = fi.ModTime().UTC()
			}
			c.mu.Lock()
			c.state, c.stampOK = st, false
			c.mu.Unlock()
			return st, nil
		}
		return nil, opError("read state of", c.id, err)
	}
	var st State
	if err := reflectjson.Decode(b, &st, func() error { return json.Unmarshal(b, &st) }); err != nil {
		return nil, opError("read state of", c.id, fmt.Errorf("%w: %w", ErrCorruptState, err))
	}
	// The stamp is the file just read: writers hold the lock we hold.
	c.rememberStamp(&st, stamp, stamped)
	return &st, nil
}

// lockedState takes the container's lock and reads its state, the start
// of every operation on an existing container. The caller unlocks.
func (c *Container) lockedState() (*State, func(), error) {
	unlock, err := c.lock()
	if err != nil {
		return nil, nil, err
	}
	st, err := c.refreshState()
	if err != nil {
		unlock()
		return nil, nil, err
	}
	return st, unlock, nil
}

// lockedStatus is lockedState with the status derived from the kernel.
func (c *Container) lockedStatus() (*State, Status, func(), error) {
	st, unlock, err := c.lockedState()
	if err != nil {
		return nil, Stopped, nil, err
	}
	status, err := c.status(st)
	if err != nil {
		unlock()
		return nil, Stopped, nil, err
	}
	return st, status, unlock, nil
}

// Status derives the container's status from the kernel.
func (c *Container) Status() (Status, error) {
	_, status, unlock, err := c.lockedStatus()
	if err != nil {
		return Stopped, err
	}
	unlock()
	return status, nil
}

// status tells the truth even when the state file is stale: init died,
// its pid was reused, or the runtime was killed mid-create.
func (c *Container) status(st *State) (Status, error) {
	if !initAlive(st) {
		return Stopped, nil
	}
	if frozen(st) {
		return Paused, nil
	}
	if _, err := os.Lstat(filepath.Join(c.dir, execFifoName)); err == nil && !initExeced(st.InitProcessPid) {
		return Created, nil
	}
	return Running, nil
}

// initExeced reports whether init has exec'd the container's program: a
// start whose runtime could not remove the exec fifo (a read-only state
// root) must not leave the container reading as created. Until it execs,
// init is this binary run with bootstrap.Args.
func initExeced(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	return !runsInit(b)
}

// runsInit reports whether cmdline, the text of /proc/<pid>/cmdline, is
// that of this binary run as a container's init (bootstrap.Args).
func runsInit(cmdline []byte) bool {
	args := strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")
	m := bootstrap.Marker(args)
	return m == bootstrap.MarkBootstrap || m == bootstrap.MarkWait || m == bootstrap.MarkHooks
}

// initAlive reports whether the process recorded as init is still it.
func initAlive(st *State) bool {
	if st.InitProcessPid <= 0 {
		return false
	}
	s, err := procstat.Read(st.InitProcessPid)
	if err != nil {
		return false
	}
	return s.StartTime == st.InitProcessStartTime && s.Alive()
}

// frozen reports whether a freezer holds the container's cgroup (see
// cgroupFrozen).
func frozen(st *State) bool {
	return st.Config.Cgroups != nil && cgroupFrozen(st.CgroupPaths)
}

// State returns a copy of the container's persisted state, which the
// caller may change freely: the container goes on with its own.
func (c *Container) State() (*State, error) {
	st, unlock, err := c.lockedState()
	if err != nil {
		return nil, err
	}
	defer unlock()
	return deepcopy.Of(st), nil
}

// OCIState returns the state as the OCI runtime spec defines it, the form
// hooks receive on stdin and `corral state` prints.
func (c *Container) OCIState() (*specs.State, error) {
	st, status, unlock, err := c.lockedStatus()
	if err != nil {
		return nil, err
	}
	defer unlock()
	return ociState(st, status), nil
}

func ociState(st *State, status Status) *specs.State {
	s := &specs.State{
		Version:     specs.Version,
		ID:          st.ID,
		Status:      specs.ContainerState(status.String()),
		Bundle:      bundleOf(st.Config.Labels),
		Annotations: map[string]string{},
	}
	if status != Stopped {
		s.Pid = st.InitProcessPid
	}
	for _, l := range st.Config.Labels {
		if k, v, ok := strings.Cut(l, "="); ok && k != "bundle" {
			s.Annotations[k] = v
		}
	}
	return s
}

// bundleOf returns the bundle directory the CLI stored as a label. The
// CLI appends it after the config's annotations, so the last one is the
// runtime's: an annotation named "bundle" in the config must not point
// exec and hooks at another bundle.
func bundleOf(labels []string) string {
	for i := len(labels) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(labels[i], "bundle="); ok {
			return v
		}
	}
	return ""
}
