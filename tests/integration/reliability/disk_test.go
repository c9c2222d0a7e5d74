package reliability

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// smallRoot mounts a tmpfs of size bytes as the test's state root. The
// mount goes when the test ends, after what is left in it is reported
// and deleted (the leak checks run after that).
func smallRoot(t *testing.T, size string) *env {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "root")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	e := newEnvAt(t, dir)
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size="+size+",mode=0700"); err != nil {
		t.Fatalf("mount a tmpfs state root: %v", err)
	}
	t.Cleanup(func() {
		unix.Mount("", dir, "", unix.MS_REMOUNT, "size="+size)
		os.Remove(filepath.Join(dir, "fill"))
		ents, _ := os.ReadDir(dir)
		for _, ent := range ents {
			t.Errorf("left behind in the state root: %s", ent.Name())
			e.corral("delete", "--force", ent.Name())
		}
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount the state root: %v", err)
			unix.Unmount(dir, unix.MNT_DETACH)
		}
	})
	return e
}

// fill writes to path until the file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", path, err)
			}
			break
		}
	}
	// A byte at a time, to leave not even a partial page.
	for {
		if _, err := f.Write(buf[:1]); err != nil {
			break
		}
	}
	f.Sync()
}

// checkStateDir checks that container id's state.json decodes and that
// no temporary file of a save is left.
func (e *env) checkStateDir(id string) {
	e.t.Helper()
	dir := filepath.Join(e.root, id)
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		e.t.Errorf("container %s: %v", id, err)
		return
	}
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil {
		e.t.Errorf("container %s: state.json is corrupt: %v", id, err)
	} else if st["id"] != id {
		e.t.Errorf("container %s: state.json has id %v", id, st["id"])
	}
	ents, _ := os.ReadDir(dir)
	for _, ent := range ents {
		switch ent.Name() {
		case "state.json", "exec.fifo":
		default:
			e.t.Errorf("container %s: unexpected file %s in its state directory", id, ent.Name())
		}
	}
}

// noContainer checks that a failed create of id left nothing.
func (e *env) noContainer(id string) {
	e.t.Helper()
	if _, err := os.Lstat(filepath.Join(e.root, id)); err == nil {
		e.t.Errorf("a failed create left its state directory: %s", e.stateFiles(id))
	}
	if d := cgroupDirs(id); len(d) > 0 {
		e.t.Errorf("a failed create left cgroups: %v", d)
	}
}

// TestFullStateRoot fills the state root: create fails saying so and
// leaves nothing, the containers made before keep an intact state that
// state, start, exec, pause, kill read and change, and delete works once
// there is space again.
func TestFullStateRoot(t *testing.T) {
	e := smallRoot(t, "200k")
	running, created, failed := e.id(), e.id(), e.id()
	e.must("create", "--bundle", e.bundle(running, []string{"sleep", e.marker()}), running)
	e.must("start", running)
	e.must("create", "--bundle", e.bundle(created, []string{"sleep", e.marker()}), created)
	failedBundle := e.bundle(failed, []string{"sleep", e.marker()})

	fill(t, filepath.Join(e.root, "fill"))
	var sfs unix.Statfs_t
	unix.Statfs(e.root, &sfs)
	t.Logf("state root full: %d blocks free", sfs.Bfree)

	r := e.fails([]string{failed, "no space left on device"}, "create", "--bundle", failedBundle, failed)
	t.Logf("create on a full state root: %s", strings.TrimSpace(r.stderr))
	e.noContainer(failed)

	if s := e.state(running); s.Status != "running" || !itest.Alive(s.Pid) {
		t.Errorf("the running container on a full state root: %+v", s)
	}
	if s := e.state(created); s.Status != "created" || !itest.Alive(s.Pid) {
		t.Errorf("the created container on a full state root: %+v", s)
	}
	e.checkList(running)
	e.checkStateDir(running)
	e.checkStateDir(created)

	// What needs no space works; what does must fail clearly, and
	// leave the state as it was.
	for _, args := range [][]string{
		{"start", created},
		{"exec", running, "true"},
		{"pause", running},
		{"resume", running},
		{"kill", created, "KILL"},
	} {
		r := e.corral(args...)
		checkOutcome(t, r)
		t.Logf("on a full state root: corral %v: exit %d %s", args, r.code, strings.TrimSpace(r.stderr))
	}
	e.checkStateDir(running)
	e.checkStateDir(created)
	e.waitTruth(running, "running")
	e.waitTruth(created, "stopped")

	if err := os.Remove(filepath.Join(e.root, "fill")); err != nil {
		t.Fatal(err)
	}
	e.deleteClean(running)
	e.deleteClean(created)
	// And create works again.
	e.must("create", "--bundle", failedBundle, failed)
	e.deleteClean(failed)
}

// TestReadOnlyStateRoot remounts the state root read-only: create fails
// saying so and leaves nothing, and a container made before reads as
// what it is.
func TestReadOnlyStateRoot(t *testing.T) {
	e := smallRoot(t, "1m")
	created, running, failed := e.id(), e.id(), e.id()
	e.must("create", "--bundle", e.bundle(created, []string{"sleep", e.marker()}), created)
	e.must("create", "--bundle", e.bundle(running, []string{"sleep", e.marker()}), running)
	e.must("start", running)
	failedBundle := e.bundle(failed, []string{"sleep", e.marker()})

	if err := unix.Mount("", e.root, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount the state root read-only: %v", err)
	}
	rw := func() {
		if err := unix.Mount("", e.root, "", unix.MS_REMOUNT, ""); err != nil {
			t.Fatalf("remount the state root read-write: %v", err)
		}
	}
	r := e.fails([]string{failed, "read-only file system"}, "create", "--bundle", failedBundle, failed)
	t.Logf("create on a read-only state root: %s", strings.TrimSpace(r.stderr))
	e.noContainer(failed)

	if s := e.state(created); s.Status != "created" || !itest.Alive(s.Pid) {
		t.Errorf("the created container on a read-only state root: %+v", s)
	}
	if s := e.state(running); s.Status != "running" || !itest.Alive(s.Pid) {
		t.Errorf("the running container on a read-only state root: %+v", s)
	}
	e.checkList(created)

	// start must either fail, leaving a created container, or run the
	// program and say so: a start that cannot remove the exec fifo
	// must not leave a running container that reads as created.
	r = e.corral("start", created)
	checkOutcome(t, r)
	t.Logf("start on a read-only state root: exit %d %s", r.code, strings.TrimSpace(r.stderr))
	want := "created"
	if r.code == 0 {
		want = "running"
	}
	e.waitTruth(created, want)
	// delete cannot remove anything: a clear error, no hang.
	r = e.corral("delete", "--force", running)
	checkOutcome(t, r)
	t.Logf("delete --force on a read-only state root: exit %d %s", r.code, strings.TrimSpace(r.stderr))
	if r.code == 0 {
		t.Errorf("delete --force succeeded on a read-only state root, yet the state directory is there: %s", e.stateFiles(running))
	}
	rw()
	if want == "running" {
		// The state root is writable again: the started container
		// must read as running, and a second start must fail, not
		// wait for an init that is long gone from the fifo.
		e.waitTruth(created, "running")
		r := e.corralT(5*time.Second, nil, "start", created)
		if r.hung || r.code != 1 {
			t.Errorf("a second start of the running container must fail at once: %v", r)
		}
	}
	e.checkStateDir(created)
	e.checkStateDir(running)
	for _, id := range []string{created, running} {
		s := e.state(id)
		if (s.Status == "stopped") == itest.Alive(s.Pid) {
			t.Errorf("after the read-only spell: %+v (pid alive: %v)", s, itest.Alive(s.Pid))
		}
		e.deleteClean(id)
	}
	e.must("create", "--bundle", failedBundle, failed)
	e.deleteClean(failed)
}

// TestTornStateFile is what a power loss can leave of a state file that
// was renamed in but not yet written back (the runtime does not fsync):
// an empty or half file. Every command says the state is corrupt, list
// goes on with the other containers, and delete --force removes it.
func TestTornStateFile(t *testing.T) {
	e := newEnv(t)
	other := e.id()
	e.must("create", "--bundle", e.bundle(other, []string{"sleep", e.marker()}), other)
	for name, content := range map[string]string{"empty": "", "half": `{"id":"x","init_process_pid":12`} {
		id := e.id()
		if err := os.MkdirAll(filepath.Join(e.root, id), 0o711); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(e.root, id, "state.json"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"state", id}, {"kill", id}, {"exec", id, "true"}, {"delete", id}} {
			e.fails([]string{id, "state.json is corrupt"}, args...)
		}
		if out := e.must("list", "-q"); !strings.Contains(out, other) {
			t.Errorf("%s state file: list lost the other container: %q", name, out)
		}
		e.must("delete", "--force", id)
		if _, err := os.Lstat(filepath.Join(e.root, id)); err == nil {
			t.Errorf("%s state file: delete --force left %s", name, e.stateFiles(id))
		}
	}
	e.deleteClean(other)
}
