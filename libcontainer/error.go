package libcontainer

import (
	"errors"
	"strconv"
)

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

// ContainerError is an operation on one container that failed. It reads
// `start container "web": <Err>`, and callers find it with errors.As to
// learn which container and operation an error is about, for example to
// name the container only where the library's error does not already.
type ContainerError struct {
	// Op is the operation, worded to read before "container": "create",
	// "start", "exec in", "stats of". It is empty for an error about the
	// container itself, such as one that does not exist.
	Op string
	// ID is the container's id.
	ID string
	// Err is what went wrong.
	Err error
}

// Error reads "op container \"id\": err".
func (e *ContainerError) Error() string {
	s := "container " + strconv.Quote(e.ID)
	if e.Op != "" {
		s = e.Op + " " + s
	}
	if e.Err == nil {
		return s
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the cause, for errors.Is(err, ErrNotRunning) and the
// like.
func (e *ContainerError) Unwrap() error { return e.Err }

// opError is the error of op on container id.
func opError(op, id string, err error) error {
	return &ContainerError{Op: op, ID: id, Err: err}
}
