package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/specconv"
)

// The state file is read and written by every runtime command (create,
// start, state, kill, delete...). Its load and save are internal to
// libcontainer, so these benchmarks go through the closest public calls:
// Create saves a state, Load reads it back, Destroy removes it. No
// container is started: only the state directory and its file are
// exercised, plus what Destroy does for a container that never ran
// (looking for a cgroup that was never made).

// stateConfig is the config `corral spec` describes, converted, with an
// empty directory as its rootfs: Create validates the config, and
// validation wants the rootfs to exist.
func stateConfig(b *testing.B) *configs.Config {
	b.Helper()
	spec := specconv.Example()
	spec.Root.Path = b.TempDir()
	c, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{CgroupName: "bench-state", Spec: spec})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// requireRoot skips when Destroy cannot look at cgroups: it removes the
// cgroup of a container, so it needs the rights to.
func requireRoot(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: Destroy removes the container's cgroup")
	}
}

// BenchmarkStateCreateLoadDestroy is a whole life of a state file: save
// (Create), load (Load), remove (Destroy).
func BenchmarkStateCreateLoadDestroy(b *testing.B) {
	requireRoot(b)
	cfg := stateConfig(b)
	root := filepath.Join(b.TempDir(), "root")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		id := fmt.Sprintf("c%d", i)
		i++
		if _, err := libcontainer.Create(root, id, cfg); err != nil {
			b.Fatal(err)
		}
		c, err := libcontainer.Load(root, id)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Destroy(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStateCreate is the save alone: validation, the state directory
// and the first write of the state file.
func BenchmarkStateCreate(b *testing.B) {
	cfg := stateConfig(b)
	root := filepath.Join(b.TempDir(), "root")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := libcontainer.Create(root, fmt.Sprintf("c%d", i), cfg); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkStateLoad is what `corral state`, `kill` or `start` pay first:
// open and lock the state directory, read and decode the state file.
func BenchmarkStateLoad(b *testing.B) {
	cfg := stateConfig(b)
	root := filepath.Join(b.TempDir(), "root")
	if _, err := libcontainer.Create(root, "c", cfg); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := libcontainer.Load(root, "c"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStateLoadStatus adds what `corral state` does next: derive the
// status from the kernel (here: never started, so stopped) and build the
// state to print.
func BenchmarkStateLoadStatus(b *testing.B) {
	cfg := stateConfig(b)
	root := filepath.Join(b.TempDir(), "root")
	if _, err := libcontainer.Create(root, "c", cfg); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		c, err := libcontainer.Load(root, "c")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.OCIState(); err != nil {
			b.Fatal(err)
		}
	}
}
