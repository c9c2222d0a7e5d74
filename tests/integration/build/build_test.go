// Package build checks that build.sh, which every integration suite runs
// to get the binary under test, builds the same binary every time: twice in
// a row with one Go build cache, and four at a time.
package build

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// buildSh runs build.sh into out with the Go build cache gocache and
// build.sh's own cache cache.
func buildSh(out, gocache, cache string) error {
	cmd := exec.Command("./build.sh", out)
	cmd.Dir = "../../.."
	cmd.Env = append(os.Environ(), "GOCACHE="+gocache, "CORRAL_CACHE="+cache)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build.sh %s: %v\n%s", out, err, b)
	}
	return nil
}

func sameFile(t *testing.T, a, b string) {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(x, y) {
		t.Errorf("%s and %s differ: the build is not reproducible", a, b)
	}
}

// TestBuildTwiceThenFourAtOnce starts from empty caches, as on a fresh
// machine: the second build once linked against a temporary directory the
// first had deleted, which Go's build cache remembered.
func TestBuildTwiceThenFourAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds corral six times from an empty Go cache; skipped in -short")
	}
	dir := t.TempDir()
	gocache := filepath.Join(dir, "gocache")
	first := filepath.Join(dir, "first")
	if err := buildSh(first, gocache, filepath.Join(dir, "cache1")); err != nil {
		t.Fatal(err)
	}
	second := filepath.Join(dir, "second")
	if err := buildSh(second, gocache, filepath.Join(dir, "cache1")); err != nil {
		t.Fatal(err)
	}
	sameFile(t, first, second)

	// Four at once on an empty build.sh cache: one builds what it keeps
	// there, the others wait for it.
	cache2 := filepath.Join(dir, "cache2")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = buildSh(filepath.Join(dir, fmt.Sprint("par", i)), gocache, cache2)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Error(err)
			continue
		}
		sameFile(t, filepath.Join(dir, "par0"), filepath.Join(dir, fmt.Sprint("par", i)))
	}
}
