package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const faultsPkg = "github.com/corral-oci/corral/internal/faults"

// deps lists the packages pkg is built from with the build tags tags.
func deps(t *testing.T, tags string, pkg string) []string {
	t.Helper()
	args := []string{"list", "-deps"}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	out, err := exec.Command("go", append(args, pkg)...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return strings.Fields(string(out))
}

// The fault points that stop the runtime for the crash tests are in the
// binary only when built for those tests: what ships, the command and the
// library alike, cannot be made to sleep for ever by a variable.
func TestNoFaultPointsInShippedBuild(t *testing.T) {
	for _, pkg := range []string{".", "../../libcontainer"} {
		if slices.Contains(deps(t, "", pkg), faultsPkg) {
			t.Errorf("%s is built with %s without the corral_testhooks tag", pkg, faultsPkg)
		}
	}
	if !slices.Contains(deps(t, "corral_testhooks", "."), faultsPkg) {
		t.Errorf("cmd/corral built with the corral_testhooks tag has no %s: the crash tests could not stop it", faultsPkg)
	}
}
