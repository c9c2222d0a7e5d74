package libcontainer

import (
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// running is a started process: its handle and the copies of its output.
type running struct {
	proc *os.Process

	// copies finish when the process and everything that inherited its
	// output have closed it.
	copies sync.WaitGroup
	// closeAfterWait are our ends of the stdio pipes.
	closeAfterWait []io.Closer

	once  sync.Once
	state *os.ProcessState
	err   error
}

func (r *running) wait() (*os.ProcessState, error) {
	r.once.Do(func() {
		r.state, r.err = r.proc.Wait()
		r.copies.Wait()
		for _, c := range r.closeAfterWait {
			c.Close()
		}
	})
	return r.state, r.err
}

// stdio connects a Process's stdin, stdout and stderr to its child.
type stdio struct {
	child [3]*os.File
	// closeAfterStart are the child's ends, which we opened.
	closeAfterStart []*os.File
	closeAfterWait  []io.Closer
	// copiers start once the process runs.
	copiers []func(*sync.WaitGroup)
}

// newStdio hands *os.File streams over as they are and puts a pipe behind
// any other reader or writer.
func newStdio(p *Process) (*stdio, error) {
	s := &stdio{}
	ok := false
	defer func() {
		if !ok {
			s.closeAll()
		}
	}()
	if p.Stdin != nil {
		if f, isFile := p.Stdin.(*os.File); isFile {
			s.child[0] = f
		} else {
			r, w, err := os.Pipe()
			if err != nil {
				return nil, err
			}
			s.child[0] = r
			s.closeAfterStart = append(s.closeAfterStart, r)
			src := p.Stdin
			// Stdin is not waited for: the reader may never reach EOF.
			s.copiers = append(s.copiers, func(*sync.WaitGroup) {
				go func() {
					io.Copy(w, src)
					w.Close()
				}()
			})
		}
	}
	for i, out := range []io.Writer{p.Stdout, p.Stderr} {
		if out == nil {
			continue
		}
		if i == 1 && p.Stderr == p.Stdout && s.child[1] != nil {
			// One writer for both, as os/exec does: two copies into it
			// would race.
			s.child[2] = s.child[1]
			continue
		}
		if f, isFile := out.(*os.File); isFile {
			s.child[i+1] = f
			continue
		}
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		s.child[i+1] = w
		s.closeAfterStart = append(s.closeAfterStart, w)
		s.closeAfterWait = append(s.closeAfterWait, r)
		dst := out
		s.copiers = append(s.copiers, func(wg *sync.WaitGroup) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				io.Copy(dst, r)
			}()
		})
	}
	ok = true
	return s, nil
}

// chown gives the pipes we made to the container's root, so that a
// process in a user namespace can reopen them through /proc/self/fd.
// Best effort: without it only reopening /dev/stdout fails.
func (s *stdio) chown(uid, gid int) {
	for _, f := range s.closeAfterStart {
		f.Chown(uid, gid)
	}
}

// started closes the child's ends and starts the copies into r.
func (s *stdio) started(r *running) {
	for _, f := range s.closeAfterStart {
		f.Close()
	}
	s.closeAfterStart = nil
	for _, c := range s.copiers {
		c(&r.copies)
	}
	r.closeAfterWait = s.closeAfterWait
}

func (s *stdio) closeAll() {
	for _, f := range s.closeAfterStart {
		f.Close()
	}
	for _, c := range s.closeAfterWait {
		c.Close()
	}
}

// sendPidfd sends a pidfd of pid over the socket, as --pidfd-socket asks.
func sendPidfd(sock *os.File, pid int) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(fd)
	if err := unix.Sendmsg(int(sock.Fd()), []byte("pidfd"), unix.UnixRights(fd), nil, 0); err != nil {
		return fmt.Errorf("send pidfd: %w", err)
	}
	return nil
}
