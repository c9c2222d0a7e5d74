package cli

import (
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// The tests of this file hold corral to what runc does with the same
// bundle or command (issue 18): where runc warns and goes on, corral
// does too; where runc is unsafe, corral refuses and says why.

// statusLine returns the value of field in /proc/<pid>/status text.
func statusLine(status, field string) string {
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TestAmbientNotInheritable runs the capabilities of `runc spec` of
// Debian's runc 1.1.5: three ambient capabilities and no inheritable set.
// The kernel cannot raise them; runc runs the container without them,
// and so does corral, with a warning.
func TestAmbientNotInheritable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	caps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	id := e.ID()
	bundle := e.Bundle(id, []string{"cat", "/proc/self/status"}, func(s *specs.Spec) {
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps, Ambient: caps}
	})
	r := e.Corral("run", "--bundle", bundle, id)
	if r.Code != 0 {
		t.Fatalf("run: %v", r)
	}
	if !strings.Contains(r.Stderr, "level=warning") || !strings.Contains(r.Stderr, "CAP_NET_BIND_SERVICE") {
		t.Errorf("no warning about the ambient capabilities: %q", r.Stderr)
	}
	if amb, eff := statusLine(r.Stdout, "CapAmb"), statusLine(r.Stdout, "CapEff"); amb != "0000000000000000" || eff != "0000000020000420" {
		t.Errorf("CapAmb %s CapEff %s, want none ambient and the three effective", amb, eff)
	}
}
