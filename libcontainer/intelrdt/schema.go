// Package intelrdt puts a container in a resctrl group (Intel RDT, AMD
// PQoS): its cache and memory bandwidth allocation (the group's schemata
// file) and, when asked, a monitoring group of its own whose counters
// events reports.
//
// It follows the runtime spec's linux.intelRdt and runc: the group is
// named by closID, or by the container's id when closID is empty (then the
// runtime made it and removes it at delete); a closID whose directory
// exists already is joined, and the schemata asked for must match what it
// holds; "/" is the default group, the resctrl root.
package intelrdt

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// Stats are the resctrl figures of a container, named as runc's events
// names them.
type Stats struct {
	// L3CacheSchema and MemBwSchema are the container's group's lines.
	L3CacheSchema string
	MemBwSchema   string
	// ...SchemaRoot are the default group's: what the container would
	// have without a group of its own.
	L3CacheSchemaRoot string
	MemBwSchemaRoot   string
	// Per L3 cache domain, of the container's monitoring group.
	MBM []MBMStats
	CMT []CMTStats
}

// MBMStats are the memory bandwidth counters of one L3 domain.
type MBMStats struct {
	TotalBytes uint64
	LocalBytes uint64
}

// CMTStats is the cache occupancy of one L3 domain.
type CMTStats struct {
	LLCOccupancy uint64
}

// Lines are the schemata lines cfg asks for, in the order the spec
// gives: l3CacheSchema, memBwSchema, then schemata. None means the
// group's allocation is left as it is.
func Lines(cfg *configs.IntelRdt) []string {
	var out []string
	for _, s := range append([]string{cfg.L3CacheSchema, cfg.MemBwSchema}, cfg.Schemata...) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// GroupName is the name of the container's control group under the
// resctrl root: closID, or the container's id; "" for the root itself.
func GroupName(cfg *configs.IntelRdt, id string) string {
	switch cfg.ClosID {
	case "":
		return id
	case "/":
		return ""
	}
	return cfg.ClosID
}

// Owned reports whether the runtime made the container's control group,
// and so removes it at delete: only a group named after the container.
func Owned(cfg *configs.IntelRdt) bool { return cfg.ClosID == "" }

// schema is one parsed schemata line: a resource ("L3", "MB", "L3CODE")
// and its value per domain id.
type schema struct {
	resource string
	domains  map[string]string
}

// parseLine parses "RES:id=val;id=val". The kernel pads the resource
// name with spaces when it prints the file.
func parseLine(line string) (schema, error) {
	res, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
	res = strings.TrimSpace(res)
	if !ok || res == "" {
		return schema{}, fmt.Errorf("%q is not RESOURCE:ID=VALUE;ID=VALUE", line)
	}
	s := schema{resource: res, domains: make(map[string]string)}
	for _, d := range strings.Split(rest, ";") {
		d = strings.TrimSpace(d)
		if d == "" {
			continue
		}
		id, val, ok := strings.Cut(d, "=")
		id, val = strings.TrimSpace(id), strings.TrimSpace(val)
		if !ok || id == "" || val == "" {
			return schema{}, fmt.Errorf("%q: %q is not ID=VALUE", line, d)
		}
		if _, err := strconv.ParseUint(id, 10, 32); err != nil {
			return schema{}, fmt.Errorf("%q: domain %q is not a number", line, id)
		}
		s.domains[id] = val
	}
	if len(s.domains) == 0 {
		return schema{}, fmt.Errorf("%q names no domain", line)
	}
	return s, nil
}

// CheckLine reports what makes line no schemata line: runtime errors
// name the field, where the kernel would only say "invalid argument".
func CheckLine(line string) error {
	if strings.ContainsAny(line, "\n\r") {
		return fmt.Errorf("%q holds a line break", line)
	}
	_, err := parseLine(line)
	return err
}

// sameValue compares the values of a resource's domain as the kernel
// means them: a bitmask in hex for the cache resources, a number for
// memory bandwidth, whatever the padding and case.
func sameValue(resource, a, b string) bool {
	base := 16
	if resource == "MB" {
		base = 10
	}
	x, errA := strconv.ParseUint(a, base, 64)
	y, errB := strconv.ParseUint(b, base, 64)
	if errA != nil || errB != nil {
		return strings.EqualFold(a, b)
	}
	return x == y
}

// Compare checks that the schemata file content have grants each
// domain of want as want gives it. It is the spec's check for a group
// that exists already: the container joins it only if it is what the
// config asks.
func Compare(want []string, have string) error {
	got := make(map[string]schema)
	for _, line := range strings.Split(have, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		s, err := parseLine(line)
		if err != nil {
			return fmt.Errorf("the group's schemata: %w", err)
		}
		got[s.resource] = s
	}
	for _, line := range want {
		w, err := parseLine(line)
		if err != nil {
			return err
		}
		g, ok := got[w.resource]
		if !ok {
			return fmt.Errorf("%q: the group has no %s resource", line, w.resource)
		}
		for id, val := range w.domains {
			if hv, ok := g.domains[id]; !ok || !sameValue(w.resource, val, hv) {
				return fmt.Errorf("%q: the group has %s:%s=%s", line, w.resource, id, hv)
			}
		}
	}
	return nil
}

// lineOf returns the line of resource in a schemata file's content, as
// runc's events show it: without the padding.
func lineOf(content, resource string) string {
	for _, line := range strings.Split(content, "\n") {
		line = strings.TrimSpace(line)
		if res, _, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(res) == resource {
			return line
		}
	}
	return ""
}
