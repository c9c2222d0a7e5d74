// Package sigpipe catches signals with a C handler that writes their
// number to a pipe, for a program that only needs to learn of them.
//
// os/signal enables each signal with a round trip to a thread of its own
// that it locks for its signal mask: for the ten signals a foreground
// corral relays, twenty hand-offs between threads and a thread made for
// the occasion, on every run and exec, and slower on a busy machine.
// Here each signal costs one sigaction(2), and a signal costs one
// write(2) and a read(2) on the other end.
//
// A handler installed this way replaces the Go runtime's for that
// signal, as cgo allows (SA_ONSTACK, since Go's threads run signal
// handlers on their alternate stacks), so the signals given to Catch
// must not be given to os/signal too, nor be ones the runtime needs
// (SIGURG, SIGPROF, synchronous signals).
package sigpipe

/*
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int sigpipe_fd = -1;

static void sigpipe_handler(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	// A full pipe drops the signal, as os/signal does for a full
	// channel.
	if (write(sigpipe_fd, &b, 1) < 0) {
	}
	errno = saved;
}

static int sigpipe_catch(int fd, const int *sigs, int n)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sigpipe_handler;
	sa.sa_flags = SA_ONSTACK | SA_RESTART;
	sigfillset(&sa.sa_mask);
	sigpipe_fd = fd;
	for (int i = 0; i < n; i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return sigs[i];
	return 0;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

var once sync.Once

// Catch makes sigs arrive on the returned channel instead of having their
// default effect. It may be called once in a process.
func Catch(sigs ...unix.Signal) (<-chan os.Signal, error) {
	err := errors.New("sigpipe: Catch called twice")
	var ch chan os.Signal
	once.Do(func() { ch, err = catch(sigs) })
	return ch, err
}

func catch(sigs []unix.Signal) (chan os.Signal, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, fmt.Errorf("sigpipe: pipe: %w", err)
	}
	// The reading end goes to Go's poller: the goroutine that reads it
	// holds no thread while it waits.
	r := os.NewFile(uintptr(p[0]), "sigpipe")
	nums := make([]C.int, len(sigs))
	for i, s := range sigs {
		nums[i] = C.int(s)
	}
	var first *C.int
	if len(nums) > 0 {
		first = &nums[0]
	}
	if failed := C.sigpipe_catch(C.int(p[1]), first, C.int(len(nums))); failed != 0 {
		// The signals before it write to p[1] now: it stays open, so
		// that its number is never another file's.
		r.Close()
		return nil, fmt.Errorf("sigpipe: catch %v: %w", unix.Signal(failed), unix.EINVAL)
	}
	ch := make(chan os.Signal, 128)
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := r.Read(buf)
			for _, b := range buf[:n] {
				select {
				case ch <- unix.Signal(b):
				default: // full: dropped, as os/signal drops
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return ch, nil
}
