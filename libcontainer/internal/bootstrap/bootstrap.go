// Package bootstrap encodes the message that tells the runtime's
// re-executed child which namespaces to join and create before Go starts
// (see libcontainer/nsenter/bootstrap.h, whose constants these mirror), and
// reads the child's answers.
package bootstrap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// EnvFD names the environment variable that carries the fd of the
// runtime's socket in the child.
const EnvFD = "_CORRAL_BOOTSTRAP"

// EnvFDs names the variable that carries how many fds the runtime passes
// its child: the bootstrap closes every one above, inherited from
// whoever started the runtime, before it joins anything.
const EnvFDs = "_CORRAL_BOOTSTRAP_FDS"

// EnvUsernsHolder names the variable of the user namespace holder.
const EnvUsernsHolder = "_CORRAL_USERNS_HOLDER"

// The runtime starts its children as this binary with the argument vector
// {name, "init", marker}: "init" is what a program embedding libcontainer
// tests to call libcontainer.Init, and the marker says which child it is.
// A child acts on its variable (EnvFD, EnvUsernsHolder, the criu root's)
// only with its marker, and on its marker only with its variable: a
// program that inherited one of them runs as if it had not. The C
// constructor (libcontainer/nsenter/bootstrap.h) has the same strings.
const (
	// ArgInit is argv[1] of every child of the runtime.
	ArgInit = "init"
	// MarkBootstrap is a container's init or an exec'd process: the
	// nsenter constructor joins the namespaces, then Init runs.
	MarkBootstrap = "--corral-bootstrap"
	// MarkUsernsHolder holds a new user namespace until its stdin
	// closes, in the nsenter constructor, and never reaches Go.
	MarkUsernsHolder = "--corral-userns-holder"
	// MarkCriuRoot is the criu root helper of a restore, run by Init.
	MarkCriuRoot = "--corral-criu-root"
	// MarkWait is init once set up, exec'd again into the constructor's
	// wait mode (EnvWait), which never reaches Go.
	MarkWait = "--corral-wait"
	// MarkHooks is init once started, exec'd by the wait mode into Go
	// to run the startContainer hooks (EnvHooks).
	MarkHooks = "--corral-hooks"
)

// EnvWait names the variable of init's wait mode: its fds
// "sock,fifo,procfs,program,filter,exe,hooks".
const EnvWait = "_CORRAL_WAIT"

// EnvHooks names the variable of init's hooks mode: its fds
// "fifo,hooks,procfs".
const EnvHooks = "_CORRAL_HOOKS"

// Args returns the argument vector of the runtime's child named name that
// marker marks.
func Args(name, marker string) []string {
	return []string{name, ArgInit, marker}
}

// Marker returns the marker of args if they are those of a child of the
// runtime, as Args makes them, and "" otherwise.
func Marker(args []string) string {
	if len(args) != 3 || args[1] != ArgInit {
		return ""
	}
	switch args[2] {
	case MarkBootstrap, MarkUsernsHolder, MarkCriuRoot, MarkWait, MarkHooks:
		return args[2]
	}
	return ""
}

const (
	magic     = 0x31524c43
	headerLen = 8
	// MaxLen is the largest message the child accepts.
	MaxLen = 65536
	// MaxJoin is the most namespaces one message can join.
	MaxJoin = 16
	// MaxCgroups is the most cgroup files one message can name.
	MaxCgroups = 32
	// MaxPath is the longest cgroup file path.
	MaxPath = 4095

	recUnshare = 1
	recJoin    = 2
	recTimens  = 3
	recFork    = 4
	recRoot    = 5
	recCgroup  = 6
)

// Sync message types exchanged with the C bootstrap.
const (
	SyncUsermap    = 1
	SyncUsermapAck = 2
	SyncPid        = 3
	SyncError      = 4
	SyncTimens     = 5
	SyncTimensAck  = 6
)

// Join is a namespace to enter: fd is the child's descriptor of it.
type Join struct {
	Type uint32 // a CLONE_NEW* flag
	FD   int32
}

// Message is what the child does before Go starts.
type Message struct {
	// Join are the namespaces to join: the C code orders them (those
	// a joined user namespace does not own first, then it, then the
	// rest).
	Join    []Join
	Unshare uint32 // CLONE_NEW* flags of namespaces to create
	// TimeOffsets asks to stop once a new time namespace is made, for
	// the runtime to write its offsets (SyncTimens).
	TimeOffsets bool
	Fork        bool // fork so the process enters the new pid/time namespace
	Root        bool // become uid/gid 0 once in the user namespace
	// Cgroups are cgroup v1 "tasks" files the child writes "0" to
	// before anything else, moving itself into the container's cgroups.
	Cgroups []string
}

// Encode returns the wire form of m.
func (m *Message) Encode() ([]byte, error) {
	if len(m.Join) > MaxJoin {
		return nil, fmt.Errorf("bootstrap: %d namespaces to join, at most %d", len(m.Join), MaxJoin)
	}
	if len(m.Cgroups) > MaxCgroups {
		return nil, fmt.Errorf("bootstrap: %d cgroups, at most %d", len(m.Cgroups), MaxCgroups)
	}
	for _, p := range m.Cgroups {
		if len(p) == 0 || len(p) > MaxPath || p[0] != '/' {
			return nil, fmt.Errorf("bootstrap: cgroup path %q is empty, relative or too long", p)
		}
	}
	b := make([]byte, headerLen, 128)
	ne := binary.NativeEndian
	rec := func(typ uint16, val []byte) {
		b = ne.AppendUint16(b, typ)
		b = ne.AppendUint16(b, uint16(len(val)))
		b = append(b, val...)
	}
	for _, p := range m.Cgroups {
		rec(recCgroup, []byte(p))
	}
	for _, j := range m.Join {
		v := ne.AppendUint32(nil, j.Type)
		rec(recJoin, ne.AppendUint32(v, uint32(j.FD)))
	}
	if m.Unshare != 0 {
		rec(recUnshare, ne.AppendUint32(nil, m.Unshare))
	}
	flag := func(typ uint16, on bool) {
		if on {
			rec(typ, []byte{1})
		}
	}
	flag(recTimens, m.TimeOffsets)
	flag(recFork, m.Fork)
	flag(recRoot, m.Root)
	if len(b) > MaxLen {
		return nil, fmt.Errorf("bootstrap: message of %d bytes, at most %d", len(b), MaxLen)
	}
	ne.PutUint32(b[0:], magic)
	ne.PutUint32(b[4:], uint32(len(b)))
	return b, nil
}

// ErrBootstrap wraps the failures the C bootstrap reports.
var ErrBootstrap = errors.New("bootstrap")

// ReadSync reads one message from the child. A SyncError message is
// returned as an error carrying the child's text.
func ReadSync(r io.Reader) (typ uint32, value int32, err error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, 0, err
	}
	typ = binary.NativeEndian.Uint32(hdr[0:])
	value = int32(binary.NativeEndian.Uint32(hdr[4:]))
	if typ == SyncError {
		if value < 0 || value > 4096 {
			return 0, 0, fmt.Errorf("%w: error of %d bytes", ErrBootstrap, value)
		}
		msg := make([]byte, value)
		if _, err := io.ReadFull(r, msg); err != nil {
			return 0, 0, fmt.Errorf("%w: truncated error: %w", ErrBootstrap, err)
		}
		return 0, 0, fmt.Errorf("%w: %s", ErrBootstrap, msg)
	}
	return typ, value, nil
}

// WriteSync sends one message to the child.
func WriteSync(w io.Writer, typ uint32, value int32) error {
	var b [8]byte
	binary.NativeEndian.PutUint32(b[0:], typ)
	binary.NativeEndian.PutUint32(b[4:], uint32(value))
	_, err := w.Write(b[:])
	return err
}
