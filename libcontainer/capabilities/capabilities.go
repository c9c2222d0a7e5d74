// Package capabilities applies the five capability sets of a container's
// process. Names are the OCI spelling ("CAP_NET_ADMIN").
package capabilities

import (
	"fmt"
	"strings"
	"sync"

	"github.com/moby/sys/capability"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// byName is built on first use: every run of the runtime binary, a
// container's init included, would pay for it at start.
var byName = sync.OnceValue(func() map[string]capability.Cap {
	m := make(map[string]capability.Cap)
	for _, c := range capability.ListKnown() {
		m["CAP_"+strings.ToUpper(c.String())] = c
	}
	return m
})

// Known reports whether name is a capability this library knows.
func Known(name string) bool {
	_, ok := byName()[name]
	return ok
}

// Names returns every capability the library knows, in kernel order.
func Names() []string {
	var out []string
	for _, c := range capability.ListKnown() {
		out = append(out, "CAP_"+strings.ToUpper(c.String()))
	}
	return out
}

// Caps are parsed capability sets, ready to apply to this process.
type Caps struct {
	sets map[capability.CapType][]capability.Cap
}

// New parses c. A name the library does not know is an error; a known
// capability the running kernel lacks is dropped, so a config written
// for a newer kernel still runs.
func New(c *configs.Capabilities) (*Caps, error) {
	last, err := capability.LastCap()
	if err != nil {
		return nil, err
	}
	out := &Caps{sets: make(map[capability.CapType][]capability.Cap)}
	for _, s := range []struct {
		which capability.CapType
		field string
		names []string
	}{
		{capability.BOUNDING, "bounding", c.Bounding},
		{capability.EFFECTIVE, "effective", c.Effective},
		{capability.PERMITTED, "permitted", c.Permitted},
		{capability.INHERITABLE, "inheritable", c.Inheritable},
		{capability.AMBIENT, "ambient", c.Ambient},
	} {
		for _, n := range s.names {
			v, ok := byName()[n]
			if !ok {
				return nil, fmt.Errorf("capabilities.%s: unknown capability %q", s.field, n)
			}
			if v > last {
				continue
			}
			out.sets[s.which] = append(out.sets[s.which], v)
		}
	}
	return out, nil
}

// ApplyBounding drops every capability outside the bounding set. It
// needs CAP_SETPCAP, so it runs before the process changes user.
func (c *Caps) ApplyBounding() error {
	// Every set is written whole, so nothing is loaded first: /proc may
	// not be mounted in the container.
	pc, err := capability.NewPid2(0)
	if err != nil {
		return err
	}
	pc.Clear(capability.BOUNDS)
	pc.Set(capability.BOUNDING, c.sets[capability.BOUNDING]...)
	if err := pc.Apply(capability.BOUNDS); err != nil {
		return fmt.Errorf("apply bounding set: %w", err)
	}
	return nil
}

// Apply sets the effective, permitted, inheritable and ambient sets of the
// calling thread, the one that will exec.
func (c *Caps) Apply() error {
	pc, err := capability.NewPid2(0)
	if err != nil {
		return err
	}
	pc.Clear(capability.CAPS | capability.AMBS)
	for _, which := range []capability.CapType{capability.EFFECTIVE, capability.PERMITTED, capability.INHERITABLE, capability.AMBIENT} {
		pc.Set(which, c.sets[which]...)
	}
	if err := pc.Apply(capability.CAPS); err != nil {
		return fmt.Errorf("apply capabilities: %w", err)
	}
	// An ambient capability the kernel refuses (not both permitted and
	// inheritable) is a config error the validator reports; here it
	// would only fail.
	if err := pc.Apply(capability.AMBS); err != nil {
		return fmt.Errorf("apply ambient capabilities: %w", err)
	}
	return nil
}
