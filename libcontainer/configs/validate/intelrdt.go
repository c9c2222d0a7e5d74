package validate

import (
	"fmt"
	"strings"

	"github.com/corral-oci/corral/libcontainer/intelrdt"
)

// intelRdt checks linux.intelRdt against the spec and the host. Without a
// resctrl mount it is refused, as the spec requires and runc does: the
// container would otherwise run without the allocation it asked for.
func (v *checker) intelRdt() {
	rdt := v.c.IntelRdt
	if rdt == nil {
		return
	}
	// The CLOS id names a directory of the resctrl root; "/" is the
	// spec's name for the root, the default group.
	if id := rdt.ClosID; id != "/" && (id == "." || id == ".." || strings.ContainsAny(id, "/\x00\n")) {
		v.failf("intel_rdt.closID", id, "is not a resctrl group name")
	}
	if s := rdt.L3CacheSchema; s != "" {
		if err := intelrdt.CheckLine(s); err != nil {
			v.failf("intel_rdt.l3_cache_schema", s, "is not a schemata line: %v", err)
		}
	}
	if s := rdt.MemBwSchema; s != "" {
		if err := intelrdt.CheckLine(s); err != nil {
			v.failf("intel_rdt.memBwSchema", s, "is not a schemata line: %v", err)
		} else if !strings.HasPrefix(strings.TrimSpace(s), "MB:") {
			v.failf("intel_rdt.memBwSchema", s, "does not start with \"MB:\"")
		}
	}
	for i, s := range rdt.Schemata {
		if err := intelrdt.CheckLine(s); err != nil {
			v.failf(fmt.Sprintf("intel_rdt.schemata[%d]", i), s, "is not a schemata line: %v", err)
		}
	}
	root, err := intelrdt.Root()
	if err != nil {
		v.failf("intel_rdt", nil, "linux.intelRdt cannot be honoured: %v", err)
		return
	}
	f := intelrdt.Probe(root)
	if rdt.L3CacheSchema != "" && !f.CAT {
		v.failf("intel_rdt.l3_cache_schema", rdt.L3CacheSchema, "needs L3 cache allocation (Intel RDT/CAT), which %s does not offer (no info/L3)", root)
	}
	if rdt.MemBwSchema != "" && !f.MBA {
		v.failf("intel_rdt.memBwSchema", rdt.MemBwSchema, "needs memory bandwidth allocation (Intel RDT/MBA), which %s does not offer (no info/MB)", root)
	}
	if rdt.EnableMonitoring && !f.Monitoring {
		v.failf("intel_rdt.enableMonitoring", nil, "needs resctrl monitoring (Intel RDT CMT/MBM), which %s does not offer (no info/L3_MON)", root)
	}
}
