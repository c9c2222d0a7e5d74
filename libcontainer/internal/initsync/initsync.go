// Package initsync is the ordered conversation between the runtime and a
// container's init (or an exec'd process) once Go runs in the child:
// length-prefixed frames of a kind byte and a payload, on the socket the
// bootstrap used. Payloads are posenc encodings: both ends are the same
// binary, and a child that decodes no JSON builds no JSON codecs. Errors
// travel as structured values so the runtime can report them by field and
// path, and match them with errors.Is against errnos.
package initsync

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/internal/posenc"
)

// Kind is the type of a message.
type Kind uint8

// The messages, in the order they are exchanged.
const (
	// Config: runtime -> child, the setup to do (a Setup).
	Config Kind = iota + 1
	// Hooks: child -> runtime, mounts are ready; run the prestart,
	// createRuntime and createContainer hooks.
	Hooks
	// HooksDone: runtime -> child, the hooks ran.
	HooksDone
	// Ready: child -> runtime, setup is complete; init now waits for
	// start, an exec'd process execs.
	Ready
	// Error: child -> runtime, setup failed (an Error).
	Error
	// SeccompFD: child -> runtime, a seccomp notify listener fd follows
	// (see SendFD); the runtime hands it to the config's listener.
	SeccompFD
	// SeccompDone: runtime -> child, the listener has the fd.
	SeccompDone
	// BindSource: child -> runtime, the source of a bind mount that the
	// child, in its user namespace, may not reach; the runtime opens it.
	BindSource
	// BindSourceFD: runtime -> child, an O_PATH fd of the source follows
	// (see SendFD). A source the runtime cannot open either gets an
	// Error instead.
	BindSourceFD
	// Pid: child -> runtime, an exec'd process's setup cloned the
	// program's process, whose pid (an int) this is; the setup exits
	// once the program runs, or sends an Error.
	Pid
)

var kindNames = [...]string{
	Config:       "config",
	Hooks:        "hooks",
	HooksDone:    "hooks-done",
	Ready:        "ready",
	Error:        "error",
	SeccompFD:    "seccomp-fd",
	SeccompDone:  "seccomp-done",
	BindSource:   "bind-source",
	BindSourceFD: "bind-source-fd",
	Pid:          "pid",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "kind " + strconv.Itoa(int(k))
}

// maxMessage bounds a message so a confused peer cannot make us allocate
// without limit.
const maxMessage = 16 << 20

// Message is one frame: its kind and its payload, still encoded.
type Message struct {
	Kind Kind
	Data []byte
}

// InitError is a failure of the child's setup.
type InitError struct {
	// Step is the setup step that failed ("mount", "pivot_root", ...).
	Step string
	// Message says what failed, naming the field and value.
	Message string
	// Errno is the kernel's error, if any.
	Errno syscall.Errno
}

func (e *InitError) Error() string { return e.Message }

// Unwrap lets errors.Is match the kernel's errno.
func (e *InitError) Unwrap() error {
	if e.Errno == 0 {
		return nil
	}
	return e.Errno
}

// NewError builds the InitError of a step from err, keeping its errno.
func NewError(step string, err error) *InitError {
	e := &InitError{Step: step, Message: err.Error()}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		e.Errno = errno
	}
	return e
}

// Send writes a message of kind k carrying v (which may be nil).
func Send(w io.Writer, k Kind, v any) error {
	frame := make([]byte, 5, 64)
	if v != nil {
		b, err := posenc.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode %s message: %w", k, err)
		}
		frame = append(frame, b...)
	}
	if len(frame)-4 > maxMessage {
		return fmt.Errorf("encode %s message: %d bytes exceeds %d", k, len(frame)-4, maxMessage)
	}
	binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
	frame[4] = byte(k)
	if _, err := w.Write(frame); err != nil {
		return fmt.Errorf("send %s message: %w", k, err)
	}
	return nil
}

// Recv reads the next message. An Error message is returned as its
// *InitError.
func Recv(r io.Reader) (*Message, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > maxMessage {
		return nil, fmt.Errorf("message of %d bytes: want 1 to %d", n, maxMessage)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("truncated message: %w", err)
	}
	m := &Message{Kind: Kind(b[0]), Data: b[1:]}
	if m.Kind == Error {
		var ie InitError
		if err := posenc.Unmarshal(m.Data, &ie); err != nil {
			return nil, fmt.Errorf("decode error message: %w", err)
		}
		return nil, &ie
	}
	return m, nil
}

// Expect reads the next message and checks its kind, decoding its data
// into v when v is not nil.
func Expect(r io.Reader, k Kind, v any) error {
	m, err := Recv(r)
	if err != nil {
		return err
	}
	if m.Kind != k {
		return fmt.Errorf("expected %s message, got %s", k, m.Kind)
	}
	if v != nil {
		if err := posenc.Unmarshal(m.Data, v); err != nil {
			return fmt.Errorf("decode %s message: %w", k, err)
		}
	}
	return nil
}

// SendFD sends a message of kind k followed by one byte carrying fd as
// SCM_RIGHTS. The receiver must take the byte with RecvFD: a plain read
// would drop the fd.
func SendFD(sock *os.File, k Kind, fd int) error {
	if err := Send(sock, k, nil); err != nil {
		return err
	}
	rights := unix.UnixRights(fd)
	if err := unix.Sendmsg(int(sock.Fd()), []byte{0}, rights, nil, 0); err != nil {
		return fmt.Errorf("send fd of %s message: %w", k, err)
	}
	return nil
}

// RecvFD receives the fd that follows a message sent by SendFD.
func RecvFD(sock *os.File) (int, error) {
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("receive fd: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return -1, errors.New("receive fd: no control message")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return -1, errors.New("receive fd: want exactly one fd")
	}
	return fds[0], nil
}
