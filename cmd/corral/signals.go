package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/internal/sigpipe"
	"github.com/corral-oci/corral/libcontainer"
)

// signalRelay is how a foreground run or exec stands in for its process:
// the signals corral receives go to the process, and corral exits as it
// does.
type signalRelay struct {
	ch <-chan os.Signal
}

// relayed are the signals a foreground corral passes on: those a user,
// a terminal or a supervisor sends.
var relayed = []unix.Signal{
	unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGUSR1, unix.SIGUSR2,
	unix.SIGWINCH, unix.SIGALRM, unix.SIGCONT, unix.SIGPWR,
}

// newSignalRelay starts catching signals. It is called before the
// container is created, so that a signal sent meanwhile is passed on
// once its process runs instead of killing corral and orphaning the
// container. They are caught with internal/sigpipe, not os/signal, whose
// registration is a round trip to a thread of its own per signal, paid
// for all ten on every run and more slowly on a busy machine, and as
// much again to undo. Nothing undoes it: corral exits once the process
// has, after removing the container, and a signal meanwhile must not end
// corral mid-removal with the signal's status instead of the process's.
func newSignalRelay() (*signalRelay, error) {
	ch, err := sigpipe.Catch(relayed...)
	if err != nil {
		return nil, fmt.Errorf("catch signals: %w", err)
	}
	return &signalRelay{ch: ch}, nil
}

// forward passes signals to p until it exits, and returns its exit code.
// tty, when set, is resized on SIGWINCH.
func (s *signalRelay) forward(p *libcontainer.Process, tty *ttyRelay) (int, error) {
	type result struct {
		st  *os.ProcessState
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := p.Wait()
		done <- result{st, err}
	}()
	for {
		select {
		case sig := <-s.ch:
			switch sig {
			case unix.SIGWINCH:
				if tty != nil {
					tty.resize()
				}
			default:
				if err := p.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
					slog.Debug("forward signal", "signal", sig, "error", err)
				}
			}
		case r := <-done:
			if r.err != nil {
				return -1, fmt.Errorf("wait for the container's process: %w", r.err)
			}
			return exitCode(r.st), nil
		}
	}
}

// parseSignal reads a signal as kill(1) takes it: a name with or without
// "SIG" in any case ("KILL", "sigterm"), or a number. 0 is a signal too,
// as for kill(2) and runc: it is sent to no one, and only checks that the
// container's init is alive.
func parseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal number %d", n)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	sig := unix.SignalNum(name)
	if sig == 0 {
		return 0, fmt.Errorf("unknown signal %q", s)
	}
	return sig, nil
}
