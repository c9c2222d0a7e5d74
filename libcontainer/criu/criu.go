// Package criu drives CRIU (Checkpoint/Restore In Userspace) through its
// RPC interface: the runtime starts `criu swrk`, which serves one request
// over a socket pair and reports back with notifications (pre-dump,
// post-restore, the pty master of an orphaned terminal, ...) that the
// caller answers along the way.
//
// The package knows the protocol and the binary, not containers: which
// namespaces, mounts and files a container's checkpoint must declare is
// libcontainer's business (checkpoint_linux.go, restore_linux.go).
//
// The messages are go-criu's (github.com/checkpoint-restore/go-criu/v8/rpc):
// code generated from criu's rpc.proto without reflection and without
// registering descriptors at init, so that linking it costs every start
// of the binary, also `corral run` and `corral exec`, which never talk to
// criu, no more than the maps of its enums' names. A field left nil is
// not sent: criu's configuration files
// (/etc/criu/default.conf, ~/.criu/default.conf, $CRIU_CONFIG_FILE, which
// `criu swrk` reads too) or its defaults decide it.
//
// Do not use it to checkpoint a single process of your own: the criu
// command line does that better. It is for programs that must pass open
// files to CRIU and answer its notifications.
package criu

import (
	"errors"
	"fmt"
	"os/exec"
	"sync"

	"github.com/checkpoint-restore/go-criu/v8/rpc"
)

// DefaultPath is the criu binary used when none is given: looked up in
// $PATH.
const DefaultPath = "criu"

// MinVersion is the oldest CRIU the runtime drives, as Major*10000 +
// Minor*100 + Sublevel: 3.11 brought external network namespaces
// ("net[inode]:key") that restoring into a namespace given by path needs.
const MinVersion = 31100

// SinglePreDumpVersion is the oldest CRIU that pre-dumps once over RPC
// and ends (SINGLE_PRE_DUMP, criu 3.17): an older one answers a PRE_DUMP
// and then waits for the next pre-dump or the final dump on the same
// socket, and fails when it is closed instead.
const SinglePreDumpVersion = 31700

var (
	// ErrNotFound is returned when the criu binary is missing.
	ErrNotFound = errors.New("criu not found")
	// ErrTooOld is returned when the criu binary is older than
	// MinVersion.
	ErrTooOld = errors.New("criu is too old")
)

// Version is the version a criu binary reports over RPC.
type Version struct {
	Major, Minor, Sublevel int
	// GitID is set for a build from git, between releases.
	GitID string
}

// Int is the version as Major*10000 + Minor*100 + Sublevel, the form
// MinVersion and go-criu use.
func (v Version) Int() int { return v.Major*10000 + v.Minor*100 + v.Sublevel }

// String is "3.17.1", or "3.17" when the sublevel is 0.
func (v Version) String() string {
	s := fmt.Sprintf("%d.%d", v.Major, v.Minor)
	if v.Sublevel != 0 {
		s += fmt.Sprintf(".%d", v.Sublevel)
	}
	if v.GitID != "" {
		s += " (" + v.GitID + ")"
	}
	return s
}

// versionString formats an integer version as MinVersion holds it.
func versionString(v int) string {
	return Version{Major: v / 10000, Minor: v / 100 % 100, Sublevel: v % 100}.String()
}

// Criu is one criu binary. Its methods may be called from several
// goroutines; each request runs its own `criu swrk`.
type Criu struct {
	path string

	mu       sync.Mutex
	resolved string
	version  *Version
}

// New returns the criu at path: a file name looked up in $PATH, or a
// path. An empty path means DefaultPath.
func New(path string) *Criu {
	if path == "" {
		path = DefaultPath
	}
	return &Criu{path: path}
}

// Path is the binary as it was given to New.
func (c *Criu) Path() string { return c.path }

// binary resolves the path to an executable, or explains what to do.
func (c *Criu) binary() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.resolved != "" {
		return c.resolved, nil
	}
	p, err := exec.LookPath(c.path)
	if err != nil {
		var ee *exec.Error
		if errors.As(err, &ee) {
			err = ee.Err
		}
		return "", fmt.Errorf("%w: install criu or pass its path (--criu, CriuOpts.CriuPath): %s: %v", ErrNotFound, c.path, err)
	}
	c.resolved = p
	return p, nil
}

// Version asks the binary for its version over RPC (criu 3.0 and later
// answer); the answer is remembered.
func (c *Criu) Version() (Version, error) {
	c.mu.Lock()
	if v := c.version; v != nil {
		c.mu.Unlock()
		return *v, nil
	}
	c.mu.Unlock()
	resp, err := c.Do(&Request{Type: rpc.CriuReqType_VERSION})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return Version{}, err
		}
		return Version{}, fmt.Errorf("%w: criu %s did not tell its version (criu 3.0 and later do): %v", ErrTooOld, c.path, err)
	}
	rv := resp.Version
	if rv == nil {
		return Version{}, fmt.Errorf("criu %s: version answer without a version", c.path)
	}
	v := Version{
		Major:    int(rv.GetMajorNumber()),
		Minor:    int(rv.GetMinorNumber()),
		Sublevel: int(rv.GetSublevel()),
		GitID:    rv.GetGitid(),
	}
	c.mu.Lock()
	c.version = &v
	c.mu.Unlock()
	return v, nil
}

// CheckVersion returns an error wrapping ErrNotFound or ErrTooOld unless
// the binary is at least min (Major*10000 + Minor*100 + Sublevel).
func (c *Criu) CheckVersion(min int) error {
	v, err := c.Version()
	if err != nil {
		return err
	}
	if v.Int() < min {
		bin, _ := c.binary()
		return fmt.Errorf("%w: criu %s or newer is needed, found %s (%s)", ErrTooOld, versionString(min), v, bin)
	}
	return nil
}

// Features asks which of the features set (true) in want this criu and
// kernel support: the answer has those that are available true, the
// others false; a feature left nil in the answer is one criu did not
// say anything about.
func (c *Criu) Features(want *rpc.CriuFeatures) (*rpc.CriuFeatures, error) {
	resp, err := c.Do(&Request{Type: rpc.CriuReqType_FEATURE_CHECK, Features: want})
	if err != nil {
		return nil, err
	}
	if resp.Features == nil {
		return nil, errors.New("criu feature check: no features in the answer")
	}
	return resp.Features, nil
}
