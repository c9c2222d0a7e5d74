package libcontainer

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// cacheTestState is a state with something in most parts of its Config.
func cacheTestState() *State {
	return &State{
		ID:                   "cached",
		InitProcessPid:       4242,
		InitProcessStartTime: 99,
		Created:              time.Date(2026, 11, 23, 17, 0, 0, 5, time.UTC),
		CgroupPaths:          map[string]string{"memory": "/sys/fs/cgroup/memory/x"},
		Config: configs.Config{
			Rootfs:   "/bundle/rootfs",
			Hostname: "box",
			Mounts:   []*configs.Mount{{Source: "proc", Destination: "/proc", Device: "proc"}},
			Namespaces: configs.Namespaces{
				{Type: configs.NEWNS}, {Type: configs.NEWNET, Path: "/run/netns/x"},
			},
			Cgroups: &configs.Cgroup{Path: "/corral/x", Resources: &configs.Resources{Memory: 1 << 20}},
			Seccomp: &configs.Seccomp{DefaultAction: configs.Errno},
			Labels:  []string{"bundle=/bundle"},
		},
	}
}

// process is another command's view of the container: a Container that
// has read nothing yet.
func process(c *Container) *Container {
	return &Container{id: c.id, root: c.root, dir: c.dir}
}

func mustRead(t *testing.T, c *Container) *State {
	t.Helper()
	st, err := c.refreshState()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// savedContainer is a container whose state.json holds want.
func savedContainer(t *testing.T, want *State) *Container {
	t.Helper()
	root := t.TempDir()
	c := &Container{id: "cached", root: root, dir: filepath.Join(root, "cached")}
	if err := os.Mkdir(c.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := c.saveState(want); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStateCache(t *testing.T) {
	want := cacheTestState()
	c := savedContainer(t, want)
	if _, err := os.Stat(c.stateCachePath()); !os.IsNotExist(err) {
		t.Fatalf("a save made a cache (%v): only readers do", err)
	}

	// The first reader decodes JSON and leaves the cache.
	if got := mustRead(t, process(c)); !reflect.DeepEqual(got, want) {
		t.Fatalf("from JSON:\n got %+v\nwant %+v", got, want)
	}
	if _, err := os.Stat(c.stateCachePath()); err != nil {
		t.Fatalf("no cache after a read: %v", err)
	}
	if got := mustRead(t, process(c)); !reflect.DeepEqual(got, want) {
		t.Fatalf("from the cache:\n got %+v\nwant %+v", got, want)
	}

	// The cache is what readers use: one made for the same file, with
	// other content, is what they get.
	stamp, _ := c.stamp()
	marked := cacheTestState()
	marked.InitProcessPid = 7
	c.cacheState(marked, stamp)
	if got := mustRead(t, process(c)); got.InitProcessPid != 7 {
		t.Fatalf("the cache was not read: pid %d", got.InitProcessPid)
	}

	// A save drops it; the next reader reads the new state.json.
	want.InitProcessPid = 5151
	if err := c.saveState(want); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.stateCachePath()); !os.IsNotExist(err) {
		t.Fatalf("the save left the cache (%v)", err)
	}
	if got := mustRead(t, process(c)); got.InitProcessPid != 5151 {
		t.Fatalf("pid %d after the save, want 5151", got.InitProcessPid)
	}
}

// TestStateCacheRefused: a cache that is not for the state.json on disk,
// or not of this State's layout, or damaged, is ignored, and the state
// read from JSON.
func TestStateCacheRefused(t *testing.T) {
	want := cacheTestState()
	c := savedContainer(t, want)
	stamp, _ := c.stamp()
	marked := cacheTestState()
	marked.InitProcessPid = 7
	c.cacheState(marked, stamp)
	good, err := os.ReadFile(c.stateCachePath())
	if err != nil {
		t.Fatal(err)
	}
	header := len(stateCacheMagic)
	for name, edit := range map[string]func([]byte) []byte{
		"magic":     func(b []byte) []byte { b[0] ^= 1; return b },
		"layout":    func(b []byte) []byte { b[header] ^= 1; return b },
		"inode":     func(b []byte) []byte { b[header+8] ^= 1; return b },
		"size":      func(b []byte) []byte { b[header+16] ^= 1; return b },
		"ctime":     func(b []byte) []byte { b[header+24] ^= 1; return b },
		"ctime ns":  func(b []byte) []byte { b[header+32] ^= 1; return b },
		"truncated": func(b []byte) []byte { return b[:len(b)-1] },
		"trailing":  func(b []byte) []byte { return append(b, 0) },
		"no header": func(b []byte) []byte { return b[:header+3] },
		"empty":     func([]byte) []byte { return nil },
	} {
		b := edit(append([]byte(nil), good...))
		if err := os.WriteFile(c.stateCachePath(), b, 0o600); err != nil {
			t.Fatal(err)
		}
		reader := process(c)
		got, err := reader.readState(false)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.InitProcessPid != want.InitProcessPid {
			t.Errorf("%s: the cache was used (pid %d)", name, got.InitProcessPid)
		}
	}
}
