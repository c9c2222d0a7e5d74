// Package procstat reads the few fields of /proc/<pid>/stat the runtime
// needs to tell a live container init from a dead one or from an unrelated
// process that reused its pid.
package procstat

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// State is the one-letter process state of proc(5).
type State byte

// The states the runtime distinguishes.
const (
	Zombie State = 'Z'
	Dead   State = 'X'
)

// Stat is the parsed part of /proc/<pid>/stat.
type Stat struct {
	PID       int
	Name      string
	State     State
	PPID      int
	StartTime uint64 // clock ticks after boot
}

// Alive reports whether the process can still run code.
func (s *Stat) Alive() bool { return s.State != Zombie && s.State != Dead }

// ErrFormat is returned for a stat line that does not parse.
var ErrFormat = errors.New("malformed /proc/<pid>/stat")

// Read parses /proc/<pid>/stat. A process that does not exist yields an
// error matching os.ErrNotExist.
func Read(pid int) (*Stat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse parses the content of a /proc/<pid>/stat file. The command name
// may contain spaces and parentheses, so fields are counted from the last
// ')'.
func Parse(b []byte) (*Stat, error) {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 1 || end < open {
		return nil, fmt.Errorf("%w: no command name", ErrFormat)
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil {
		return nil, fmt.Errorf("%w: pid: %w", ErrFormat, err)
	}
	s := &Stat{PID: pid, Name: string(b[open+1 : end])}
	// Field 3 (state) is the first after the name; starttime is field 22.
	fields := bytes.Fields(b[end+1:])
	if len(fields) < 20 {
		return nil, fmt.Errorf("%w: %d fields after the name, want 20", ErrFormat, len(fields))
	}
	if len(fields[0]) != 1 {
		return nil, fmt.Errorf("%w: state %q", ErrFormat, fields[0])
	}
	s.State = State(fields[0][0])
	if s.PPID, err = strconv.Atoi(string(fields[1])); err != nil {
		return nil, fmt.Errorf("%w: ppid: %w", ErrFormat, err)
	}
	if s.StartTime, err = strconv.ParseUint(string(fields[19]), 10, 64); err != nil {
		return nil, fmt.Errorf("%w: starttime: %w", ErrFormat, err)
	}
	return s, nil
}
