package libcontainer

import "errors"

// Errors of the container lifecycle, for errors.Is.
var (
	ErrExist      = errors.New("container with given ID already exists")
	ErrNotExist   = errors.New("container does not exist")
	ErrInvalidID  = errors.New("invalid container ID")
	ErrRunning    = errors.New("container is running")
	ErrNotRunning = errors.New("container is not running")
	ErrPaused     = errors.New("container is paused")
	ErrNotPaused  = errors.New("container is not paused")
	ErrStopped    = errors.New("container is stopped")
	ErrNotCreated = errors.New("container is not in the created state")
	// ErrCorruptState is a state file that does not decode: the
	// runtime's own writes are atomic, so something else wrote it, or a
	// power loss tore it.
	ErrCorruptState = errors.New("state.json is corrupt")
)
