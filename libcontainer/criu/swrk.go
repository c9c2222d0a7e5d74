package criu

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/checkpoint-restore/go-criu/v8/rpc"
	"golang.org/x/sys/unix"
)

// swrkFD is the fd of the RPC socket in criu: `criu swrk 3`.
const swrkFD = 3

// maxMessage bounds one RPC message; CRIU's answers are far smaller.
const maxMessage = 1 << 16

// Request is one RPC request, the files criu gets with it, and the
// callbacks that answer its notifications.
//
// Opts must set ImagesDirFd (-1 to use ImagesDir), which criu requires.
// Fds in Opts are of two kinds. ImagesDirFd, WorkDirFd and the like are
// the caller's own fd numbers: criu opens them through
// /proc/<caller>/fd. InheritFd entries and other swrk-only fds are fds of
// the criu process: pass the file with AddFile and use the number it
// returns.
type Request struct {
	Type     rpc.CriuReqType
	Opts     *rpc.CriuOpts
	Features *rpc.CriuFeatures

	// Notify, when set, is called for every notification criu sends;
	// an error aborts the request. Setting it turns criu's notify
	// scripts on.
	Notify func(*Notification) error

	// Started, when set, is called with the pid of criu once it runs,
	// before the request is sent: to put criu in a cgroup, say.
	Started func(pid int) error

	// PrivateMounts runs criu in a mount namespace of its own, a
	// private copy of the caller's: the mounts it makes while it works
	// (its cgroup yard, the restored tree's mounts) never show on the
	// host. Only for a process tree in a mount namespace of its own:
	// criu tells a tree sharing its mount namespace by comparing it
	// with its own.
	PrivateMounts bool

	// Wrap, when set, runs criu through a wrapper: it gets the criu
	// binary and its arguments and returns the command to start
	// instead, which must end by executing them in the same process.
	// Do gives it criu's files (the same fds) and, with PrivateMounts,
	// its mount namespace, where it may mount what criu needs.
	Wrap func(bin string, args []string) *exec.Cmd

	files []*os.File
}

// AddFile passes f to criu and returns its fd number there. f stays the
// caller's: Do does not close it.
func (r *Request) AddFile(f *os.File) int32 {
	r.files = append(r.files, f)
	return int32(swrkFD + len(r.files))
}

// Notification is one event criu reports while it serves a request: the
// name of its notify script ("pre-dump", "post-dump", "network-lock",
// "network-unlock", "pre-restore", "setup-namespaces",
// "post-setup-namespaces", "post-restore", "pre-resume", "post-resume",
// "orphan-pts-master", "status-ready", ...).
type Notification struct {
	Script string
	// Pid is the pid of the restored root task, for setup-namespaces
	// and post-restore.
	Pid int
	// File is an fd criu sent along: the pty master for
	// orphan-pts-master. The callback owns it and must close it.
	File *os.File
}

// Do runs one `criu swrk` for req and returns criu's answer. A request
// criu refused or failed is an error naming criu's message and errno.
func (c *Criu) Do(req *Request) (*rpc.CriuResp, error) {
	bin, err := c.binary()
	if err != nil {
		return nil, err
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("criu: socketpair: %w", err)
	}
	ours := os.NewFile(uintptr(fds[0]), "criu-rpc")
	theirs := os.NewFile(uintptr(fds[1]), "criu-rpc-swrk")
	defer ours.Close()
	// criu's own stderr says why it could not even start; a file, not
	// a pipe, which a restored process could inherit and keep open.
	stderr, err := os.CreateTemp("", "criu-stderr-")
	if err != nil {
		theirs.Close()
		return nil, fmt.Errorf("criu: %w", err)
	}
	os.Remove(stderr.Name())
	defer stderr.Close()
	args := []string{bin, "swrk", fmt.Sprint(swrkFD)}
	cmd := &exec.Cmd{Path: bin, Args: args}
	if req.Wrap != nil {
		cmd = req.Wrap(bin, args)
	}
	cmd.ExtraFiles = append([]*os.File{theirs}, req.files...)
	cmd.Stderr = stderr
	if req.PrivateMounts {
		// Go makes every mount of the new namespace private.
		cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	}
	err = cmd.Start()
	theirs.Close()
	if err != nil {
		return nil, fmt.Errorf("%w: start %s: %v", ErrNotFound, bin, err)
	}
	resp, err := converse(ours, req, cmd.Process.Pid)
	ours.Close()
	werr := cmd.Wait()
	switch {
	case werr != nil && err == nil:
		err = fmt.Errorf("criu swrk: %w", werr)
	case werr != nil && resp == nil:
		// No answer: how criu ended and what it said is all there is.
		err = fmt.Errorf("%w (criu %s%s)", err, describeWait(cmd.ProcessState), lastWords(stderr))
	}
	return resp, err
}

// lastWords returns the last line criu wrote to its stderr, as ": line".
func lastWords(f *os.File) string {
	b := make([]byte, 4096)
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := st.Size() - int64(len(b))
	if off < 0 {
		off = 0
	}
	n, _ := f.ReadAt(b, off)
	lines := strings.Split(strings.TrimSpace(string(b[:n])), "\n")
	if last := strings.TrimSpace(lines[len(lines)-1]); last != "" {
		return ": " + last
	}
	return ""
}

// converse sends the request and answers notifications until criu's
// final answer.
func converse(sock *os.File, req *Request, pid int) (*rpc.CriuResp, error) {
	if req.Started != nil {
		if err := req.Started(pid); err != nil {
			unix.Kill(pid, unix.SIGKILL)
			return nil, err
		}
	}
	msg := &rpc.CriuReq{Type: new(req.Type), Opts: req.Opts, Features: req.Features}
	if req.Notify != nil && req.Opts != nil {
		req.Opts.NotifyScripts = new(true)
	}
	name := strings.ToLower(strings.ReplaceAll(req.Type.String(), "_", "-"))
	var notifyErr error
	for {
		if err := send(sock, msg); err != nil {
			return nil, fmt.Errorf("criu %s: send request: %w", name, err)
		}
		resp, file, err := recv(sock)
		if err != nil {
			if notifyErr != nil {
				return nil, notifyErr
			}
			return nil, fmt.Errorf("criu %s: %w", name, err)
		}
		if resp.GetType() != rpc.CriuReqType_NOTIFY {
			if file != nil {
				file.Close()
			}
			if notifyErr != nil {
				return resp, notifyErr
			}
			if !resp.GetSuccess() {
				return resp, &Error{Op: name, Msg: cleanMessage(resp.GetCrErrmsg()), Errno: unix.Errno(resp.GetCrErrno())}
			}
			if resp.GetType() != req.Type {
				return resp, fmt.Errorf("criu %s: unexpected %s answer", name, resp.GetType())
			}
			return resp, nil
		}
		n := &Notification{
			File:   file,
			Script: resp.GetNotify().GetScript(),
			Pid:    int(resp.GetNotify().GetPid()),
		}
		ok := true
		if req.Notify != nil && notifyErr == nil {
			if err := req.Notify(n); err != nil {
				notifyErr = fmt.Errorf("criu %s: %s: %w", name, n.Script, err)
				ok = false
			}
		} else if file != nil {
			file.Close()
		}
		msg = &rpc.CriuReq{Type: new(rpc.CriuReqType_NOTIFY), NotifySuccess: new(ok)}
	}
}

func send(sock *os.File, msg *rpc.CriuReq) error {
	b, err := msg.MarshalVT()
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	_, err = sock.Write(b)
	return err
}

// recv reads one answer and the fd that may come with it.
func recv(sock *os.File) (*rpc.CriuResp, *os.File, error) {
	buf := make([]byte, maxMessage)
	oob := make([]byte, unix.CmsgSpace(4))
	var n, oobn, flags int
	var err error
	for {
		n, oobn, flags, _, err = unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read answer: %w", err)
	}
	var file *os.File
	if oobn > 0 {
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err == nil {
			for i := range msgs {
				fds, err := unix.ParseUnixRights(&msgs[i])
				if err != nil {
					continue
				}
				for _, fd := range fds {
					if file == nil {
						file = os.NewFile(uintptr(fd), "criu-fd")
					} else {
						unix.Close(fd)
					}
				}
			}
		}
	}
	if n == 0 {
		if file != nil {
			file.Close()
		}
		return nil, nil, errors.New("criu exited without an answer")
	}
	if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
		if file != nil {
			file.Close()
		}
		return nil, nil, errors.New("answer truncated")
	}
	resp := &rpc.CriuResp{}
	if err := resp.UnmarshalVT(buf[:n]); err != nil {
		if file != nil {
			file.Close()
		}
		return nil, nil, fmt.Errorf("decode answer: %w", err)
	}
	return resp, file, nil
}

func describeWait(st *os.ProcessState) string {
	if st == nil {
		return "did not start"
	}
	return st.String()
}

// Error is a request criu served and failed.
type Error struct {
	// Op is the request: "dump", "restore", "pre-dump", ...
	Op string
	// Msg is criu's own message, often empty: its log says more.
	Msg   string
	Errno unix.Errno
}

func (e *Error) Error() string {
	s := "criu " + e.Op + " failed"
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Errno != 0 {
		s += fmt.Sprintf(" (errno %d: %v)", int(e.Errno), e.Errno)
	}
	return s
}

// Unwrap lets errors.Is match criu's errno.
func (e *Error) Unwrap() error {
	if e.Errno == 0 {
		return nil
	}
	return e.Errno
}

// cleanMessage drops what criu reports on every run from its message
// (its first error line), and the line breaks.
func cleanMessage(msg string) string {
	msg = strings.TrimSpace(msg)
	if isNoise(msg) {
		return ""
	}
	return strings.Join(strings.Fields(msg), " ")
}

// isNoise reports whether a criu error line is one it logs on every run
// where it may not raise its own fd limit.
func isNoise(line string) bool {
	return strings.Contains(line, "RLIMIT_NOFILE")
}

// LogErrors returns the last n error lines of a criu log file, the lines
// that say why a request failed, joined by "; ". It returns "" when the
// log cannot be read or has none.
func LogErrors(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.Index(line, "Error (")
		if i < 0 {
			continue
		}
		line = strings.TrimSpace(line[i:])
		if isNoise(line) {
			continue
		}
		lines = append(lines, line)
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "; ")
}
