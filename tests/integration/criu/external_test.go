package criu

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestCgroupMounts checkpoints containers whose /sys/fs/cgroup shows
// their cgroups, as `corral spec` has it and without a cgroup namespace:
// binds of the host's cgroup directories (on a v1 or hybrid host always:
// criu dumped none with a cgroup2 bind, "doesn't have a proper root
// mount"), or a cgroup2 of their own namespace. The restored container
// has the same cgroup mounts, of its own cgroup.
func TestCgroupMounts(t *testing.T) {
	noCgroupNS := func(s *specs.Spec) {
		s.Linux.Namespaces = slices.DeleteFunc(s.Linux.Namespaces, func(n specs.LinuxNamespace) bool {
			return n.Type == specs.CgroupNamespace
		})
	}
	for _, tc := range []struct {
		name string
		mods []func(*specs.Spec)
	}{
		{"spec", nil},
		{"no cgroup namespace", []func(*specs.Spec){noCgroupNS}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			id := e.ID()
			bundle := e.Bundle(id, counter, tc.mods...)
			out := e.startCounter(id, bundle)
			for out.next() < 3 {
			}
			before := cgroupMounts(t, e.state(id).Pid, id)
			images := t.TempDir()
			e.Must("checkpoint", "--image-path", images, id)
			last := out.last()

			out = e.restoreCounter(id, bundle, images)
			if n := out.next(); n != last+1 {
				t.Errorf("the restored counter printed %d after %d", n, last)
			}
			if after := cgroupMounts(t, e.state(id).Pid, id); !slices.Equal(before, after) {
				t.Errorf("cgroup mounts before the checkpoint:\n%s\nafter the restore:\n%s", strings.Join(before, "\n"), strings.Join(after, "\n"))
			}
			// The unified hierarchy's directory is the container's:
			// init, pid 1 there, is in it.
			script := `for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do [ -f $d/cgroup.procs ] && cat $d/cgroup.procs; done; true`
			if got := strings.Fields(e.Must("exec", id, "sh", "-c", script)); !slices.Contains(got, "1") {
				t.Errorf("the restored container's cgroup2 directory holds %q, not its init", got)
			}
			e.Must("delete", "--force", id)
		})
	}
}

// cgroupMounts lists the cgroup mounts of process pid, "mount point
// type", and fails the test if one is not of container id's cgroup (as
// the host sees its root), or there is none.
func cgroupMounts(t *testing.T, pid int, id string) []string {
	t.Helper()
	mounts, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(mounts), "\n") {
		before, after, ok := strings.Cut(l, " - ")
		f, g := strings.Fields(before), strings.Fields(after)
		if !ok || len(f) < 5 || len(g) < 1 || (g[0] != "cgroup" && g[0] != "cgroup2") {
			continue
		}
		if !strings.HasSuffix(f[3], "/"+cgroupParent+"/"+id) {
			t.Errorf("cgroup mount %s of the container is of cgroup %s", f[4], f[3])
		}
		out = append(out, f[4]+" "+g[0])
	}
	if len(out) == 0 {
		t.Fatalf("the container has no cgroup mount:\n%s", mounts)
	}
	return out
}

// TestPodNamespaces checkpoints a container that joined the ipc, uts and
// pid namespaces of another by path, as the containers of a pod join
// those of its sandbox: the restored container is in them again (the pid
// namespace as criu's external one, the others joined), and its restore
// fails, naming it, once they are gone.
func TestPodNamespaces(t *testing.T) {
	e := newEnv(t)
	sandbox := e.ID()
	// Its init reaps the orphans of its pid namespace, as a pod's pause
	// does: the checkpoint kills the counter's children, whose pids the
	// restore needs again.
	reaper := []string{"sh", "-c", "while true; do sleep 1; done"}
	e.Must("run", "--detach", "--bundle", e.Bundle(sandbox, reaper, func(s *specs.Spec) { s.Hostname = "pod" }), sandbox)
	t.Cleanup(func() { e.Corral("delete", "--force", sandbox) })
	sandboxPid := e.state(sandbox).Pid
	joined := map[specs.LinuxNamespaceType]string{specs.IPCNamespace: "ipc", specs.UTSNamespace: "uts", specs.PIDNamespace: "pid"}
	join := func(s *specs.Spec) {
		for i, n := range s.Linux.Namespaces {
			if name, ok := joined[n.Type]; ok {
				s.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/%s", sandboxPid, name)
			}
		}
		s.Hostname = ""
	}
	id := e.ID()
	bundle := e.Bundle(id, counter, join)
	out := e.startCounter(id, bundle)
	for out.next() < 3 {
	}
	images := t.TempDir()
	e.Must("checkpoint", "--image-path", images, id)
	last := out.last()
	e.gone(id)

	out = e.restoreCounter(id, bundle, images)
	if n := out.next(); n != last+1 {
		t.Errorf("the restored counter printed %d after %d", n, last)
	}
	pid := e.state(id).Pid
	for _, name := range joined {
		var want, got unix.Stat_t
		if err := unix.Stat(fmt.Sprintf("/proc/%d/ns/%s", sandboxPid, name), &want); err != nil {
			t.Fatal(err)
		}
		if err := unix.Stat(fmt.Sprintf("/proc/%d/ns/%s", pid, name), &got); err != nil {
			t.Fatal(err)
		}
		if got.Ino != want.Ino {
			t.Errorf("the restored init is in %s namespace %d, not the sandbox's (%d)", name, got.Ino, want.Ino)
		}
	}
	if got := strings.TrimSpace(e.Must("exec", id, "hostname")); got != "pod" {
		t.Errorf("hostname in the restored container: %q, want the sandbox's", got)
	}
	// The sandbox sees the restored counter among its processes.
	if ps := e.Must("exec", sandbox, "ps", "-o", "args"); !strings.Contains(ps, "echo $i") {
		t.Errorf("the sandbox does not see the restored counter:\n%s", ps)
	}

	images = t.TempDir()
	e.Must("checkpoint", "--image-path", images, id)
	e.Must("delete", "--force", sandbox)
	e.Fails([]string{"restore container", "/proc/", "namespace"},
		"restore", "--detach", "--image-path", images, "--bundle", bundle, id)
	e.gone(id)
}

// TestCriuConfigAnnotation passes criu the configuration file the
// org.criu.config annotation names, which criu reads after corral's
// options (here its log-file wins over corral's dump.log and
// restore.log); "" passes none; a file that does not exist is refused,
// on checkpoint and restore, and the container left as it was.
func TestCriuConfigAnnotation(t *testing.T) {
	e := newEnv(t)
	conf := filepath.Join(t.TempDir(), "criu.conf")
	if err := os.WriteFile(conf, []byte("# from the org.criu.config annotation\nlog-file custom.log\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	annotate := func(v string) func(*specs.Spec) {
		return func(s *specs.Spec) {
			if s.Annotations == nil {
				s.Annotations = map[string]string{}
			}
			s.Annotations["org.criu.config"] = v
		}
	}
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }

	id := e.ID()
	bundle := e.Bundle(id, counter, annotate(conf))
	out := e.startCounter(id, bundle)
	for out.next() < 3 {
	}
	images := t.TempDir()
	e.Must("checkpoint", "--image-path", images, id)
	last := out.last()
	if !exists(filepath.Join(images, "custom.log")) || exists(filepath.Join(images, "dump.log")) {
		t.Errorf("criu did not log where the configuration file says: %s", ls(images))
	}
	out = e.restoreCounter(id, bundle, images)
	if n := out.next(); n != last+1 {
		t.Errorf("the restored counter printed %d after %d", n, last)
	}
	if exists(filepath.Join(images, "restore.log")) {
		t.Errorf("the restore did not read the configuration file: %s", ls(images))
	}
	e.Must("delete", "--force", id)

	id = e.ID()
	out = e.startCounter(id, e.Bundle(id, counter, annotate("")))
	out.next()
	images = t.TempDir()
	e.Must("checkpoint", "--image-path", images, id)
	if !exists(filepath.Join(images, "dump.log")) {
		t.Errorf("with the annotation empty, no dump.log: %s", ls(images))
	}

	missing := filepath.Join(t.TempDir(), "missing.conf")
	id = e.ID()
	bundle = e.Bundle(id, counter, annotate(missing))
	e.Fails([]string{"restore container", "org.criu.config", missing},
		"restore", "--detach", "--image-path", images, "--bundle", bundle, id)
	e.gone(id)
	out = e.startCounter(id, bundle)
	out.next()
	e.Fails([]string{"checkpoint container", "org.criu.config", missing}, "checkpoint", "--image-path", t.TempDir(), id)
	if st := e.state(id); st.Status != "running" {
		t.Errorf("after the refused checkpoint: %+v", st)
	}
	e.Must("delete", "--force", id)
}

// ls lists a directory's names, for failure messages.
func ls(dir string) string {
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return dir + ": " + strings.Join(names, " ")
}
