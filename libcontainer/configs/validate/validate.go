// Package validate checks a configs.Config before the runtime creates
// anything for it, so that a mistake is reported by its field and value
// ("mounts[2].destination: \"x\" is not an absolute path") instead of as a
// failed mount or write halfway through a start, with half a container to
// clean up.
//
// Some checks read the host, because a config is only meaningful against
// it: that the rootfs, a bind source or a namespace file exists, which cpus,
// memory nodes and huge page sizes the machine has, whether resctrl is
// mounted. A config that passes can still fail at start: the host may
// change in between, and the kernel may refuse a value for reasons of its
// own. This package catches what is knowable in advance.
//
// Do not use it to vet a config for another machine: the answers about the
// host are this machine's.
package validate

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// ErrInvalid is matched by errors.Is on every error Validate returns.
var ErrInvalid = errors.New("invalid config")

// Error is one problem of a config.
type Error struct {
	// Field is the path of the field in the config's JSON naming:
	// "mounts[2].destination", `sysctl "net.ipv4.ip_forward"`.
	Field string
	// Value is the offending value; nil when the problem is an absence
	// or a combination of fields.
	Value any
	// Reason says what is wrong: lowercase, without a final period.
	Reason string
	// Err is the cause when a check read the host (a stat or an open
	// that failed), so that callers can match it with errors.Is.
	Err error
}

// Error reads "field: value reason".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Field)
	b.WriteString(": ")
	if e.Value != nil {
		b.WriteString(formatValue(e.Value))
		b.WriteByte(' ')
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Is makes every Error match ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Unwrap returns the host error behind the problem, if any.
func (e *Error) Unwrap() error { return e.Err }

// Values are quoted when they are strings so that an empty or
// space-padded value stays visible in the message.
func formatValue(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case fmt.Stringer:
		return v.String()
	default:
		return fmt.Sprint(v)
	}
}

// hex and octal print flag words and modes the way their man pages do.
type (
	hex   uint64
	octal uint32
)

func (h hex) String() string   { return fmt.Sprintf("%#x", uint64(h)) }
func (o octal) String() string { return fmt.Sprintf("%#o", uint32(o)) }

// Validate checks c before anything is created. It returns every problem
// it finds, joined with errors.Join; each one is an *Error and matches
// ErrInvalid.
func Validate(c *configs.Config) error {
	if c == nil {
		return &Error{Field: "config", Reason: "is nil"}
	}
	return check(c, hostMachine())
}

// checks run in the order of a start, so that the first error listed is
// the one a start would have hit first.
var checks = []func(*checker){
	(*checker).rootfs,
	(*checker).namespaces,
	(*checker).userNamespace,
	(*checker).uts,
	(*checker).timeOffsets,
	(*checker).mounts,
	(*checker).devices,
	(*checker).rootPropagation,
	(*checker).maskedPaths,
	(*checker).networks,
	(*checker).netDevices,
	(*checker).sysctl,
	(*checker).cgroups,
	(*checker).intelRdt,
	(*checker).hooks,
	(*checker).rlimits,
	(*checker).process,
	(*checker).capabilities,
	(*checker).seccomp,
	(*checker).labels,
}

// check is Validate against a given machine, the seam the tests use to
// describe hosts they do not run on.
func check(c *configs.Config, m *machine) error {
	v := &checker{c: c, m: m}
	for _, f := range checks {
		f(v)
	}
	return errors.Join(v.errs...)
}

// checker collects the problems of one config.
type checker struct {
	c    *configs.Config
	m    *machine
	errs []error
}

func (v *checker) failf(field string, value any, format string, args ...any) {
	v.errs = append(v.errs, &Error{Field: field, Value: value, Reason: fmt.Sprintf(format, args...)})
}

// failPath reports a host path that could not be used, keeping the
// cause for errors.Is(err, fs.ErrNotExist) and friends.
func (v *checker) failPath(field, path string, err error) {
	reason := "cannot be used: " + cause(err)
	if errors.Is(err, fs.ErrNotExist) {
		reason = "does not exist"
	}
	v.errs = append(v.errs, &Error{Field: field, Value: path, Reason: reason, Err: err})
}

// cause drops the operation and path of a PathError: the message names
// the path already.
func cause(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// absPath checks what any path the runtime uses needs: set, absolute, and
// free of NUL, which no syscall can take. It reports whether p passed, so
// the caller may go on to stat or walk it.
func (v *checker) absPath(field, p string) bool {
	switch {
	case p == "":
		v.failf(field, nil, "must be set")
	case strings.IndexByte(p, 0) >= 0:
		v.failf(field, p, "contains a NUL byte")
	case !filepath.IsAbs(p):
		v.failf(field, p, "is not an absolute path")
	default:
		return true
	}
	return false
}

func (v *checker) rootfs() {
	r := v.c.Rootfs
	if !v.absPath("rootfs", r) {
		return
	}
	const own = "a container needs a root filesystem of its own"
	if filepath.Clean(r) == "/" {
		v.failf("rootfs", r, "is the host's root directory; %s", own)
		return
	}
	fi, err := os.Stat(r)
	if err != nil {
		v.failPath("rootfs", r, err)
		return
	}
	if !fi.IsDir() {
		v.failf("rootfs", r, "is not a directory")
		return
	}
	if real, err := filepath.EvalSymlinks(r); err == nil && real == "/" {
		v.failf("rootfs", r, "resolves to the host's root directory; %s", own)
	}
}

func (v *checker) networks() {
	for i, n := range v.c.Networks {
		f := fmt.Sprintf("networks[%d]", i)
		switch {
		case n == nil:
			v.failf(f, nil, "is null")
		case n.Type != "loopback":
			v.failf(f+".type", n.Type, `is not supported (only "loopback" is)`)
		}
	}
	// Bringing up lo in the runtime's own namespace would touch the host.
	if len(v.c.Networks) > 0 && !v.owns(configs.NEWNET) {
		v.failf("networks", nil, "needs a network namespace of the container's own")
	}
}

func (v *checker) hooks() {
	known := configs.HookNames()
	for _, name := range slices.Sorted(maps.Keys(v.c.Hooks)) {
		if !slices.Contains(known, name) {
			v.failf("hooks", string(name), "is not a lifecycle point (%s)", joinNames(known))
			continue
		}
		for i, h := range v.c.Hooks[name] {
			f := fmt.Sprintf("hooks.%s[%d]", name, i)
			var cmd *configs.Command
			switch h := h.(type) {
			case nil:
			case configs.CommandHook:
				cmd = &h.Command
			case *configs.CommandHook:
				if h != nil {
					cmd = &h.Command
				}
			default:
				// A Go hook of the embedding program: nothing to check.
				continue
			}
			if cmd == nil {
				v.failf(f, nil, "is null")
				continue
			}
			v.absPath(f+".path", cmd.Path)
			if t := cmd.Timeout; t != nil && *t <= 0 {
				v.failf(f+".timeout", *t, "is not positive")
			}
		}
	}
}

// labels are free-form, but an empty one is always a mistake of the code
// that built the config.
func (v *checker) labels() {
	for i, l := range v.c.Labels {
		if l == "" {
			v.failf(fmt.Sprintf("labels[%d]", i), nil, "is empty")
		}
	}
}

func joinNames[T ~string](names []T) string {
	s := make([]string, len(names))
	for i, n := range names {
		s[i] = string(n)
	}
	return strings.Join(s, ", ")
}
