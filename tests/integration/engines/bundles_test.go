package engines

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/corral-oci/corral/tests/integration/internal/corpus"
)

// updateCorpus makes TestCaptureBundles write what it captured into
// tests/integration/testdata/bundles, replacing the corpus there.
var updateCorpus = flag.Bool("update-corpus", false, "write the captured engine bundles into tests/integration/testdata/bundles")

// captureScript is the runtime the engines run in TestCaptureBundles: it
// copies the config.json of every bundle it is asked to create into the
// capture directory (named by time and container id, so that the test
// can tell the pod sandbox from its container), then runs corral. The
// engines' daemons do not pass the test's environment on, so both paths
// are written into the script.
const captureScript = `#!/bin/sh
bundle=""; prev=""; create=""
for a in "$@"; do
	case "$prev" in --bundle|-b) bundle=$a ;; esac
	case "$a" in --bundle=*) bundle=${a#--bundle=} ;; create) create=1 ;; esac
	prev=$a
done
if [ -n "$create" ] && [ -f "$bundle/config.json" ]; then
	eval "id=\${$#}"
	cp "$bundle/config.json" "CAPTURE/$(date +%s%N)-$id.json"
fi
exec CORRAL "$@"
`

// capture is a directory the capture script writes into.
type capture struct {
	t   *testing.T
	dir string
	// taken are the files already handed out by take.
	taken map[string]bool
	// got are the configs taken so far, by corpus name.
	got map[string][]byte
}

// newCapture writes the capture script and returns it with its directory.
func newCapture(t *testing.T) (*capture, string) {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	script := strings.NewReplacer("CAPTURE", out, "CORRAL", corralBin).Replace(captureScript)
	bin := filepath.Join(dir, "corral-capture")
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return &capture{t: t, dir: out, taken: map[string]bool{}, got: map[string][]byte{}}, bin
}

// take names the configs captured since the last take, oldest first:
// names[i] is the corpus name of the i-th. It fails the test unless
// exactly len(names) were captured.
func (c *capture) take(names ...string) {
	c.t.Helper()
	ents, err := os.ReadDir(c.dir)
	if err != nil {
		c.t.Fatal(err)
	}
	var fresh []string
	for _, e := range ents {
		if !c.taken[e.Name()] {
			fresh = append(fresh, e.Name())
			c.taken[e.Name()] = true
		}
	}
	sort.Strings(fresh)
	if len(fresh) != len(names) {
		c.t.Fatalf("captured %v, want %d configs (%v)", fresh, len(names), names)
	}
	for i, n := range fresh {
		b, err := os.ReadFile(filepath.Join(c.dir, n))
		if err != nil {
			c.t.Fatal(err)
		}
		c.got[names[i]] = b
	}
}

// TestCaptureBundles runs a plain container, one with limits, a
// privileged one and (where the engine makes one without setup of the
// host) one in a user namespace through every engine, with a runtime
// that records the config.json the engine wrote; it checks that
// corpus.Normalize leaves none of the engine's temporary paths in them,
// and with -update-corpus writes them into the corpus (see the README
// there).
func TestCaptureBundles(t *testing.T) {
	t.Run("Containerd", func(t *testing.T) {
		needBinaries(t, "containerd", "ctr", "containerd-shim-runc-v2")
		t.Parallel()
		cp, bin := newCapture(t)
		c := startContainerd(t)
		c.runtime = bin
		c.importImage()
		for _, k := range []struct {
			name  string
			flags []string
		}{
			{"plain", nil},
			{"limits", []string{"--memory-limit", "67108864", "--cpus", "0.5", "--cpu-shares", "512"}},
			{"privileged", []string{"--privileged"}},
		} {
			id := c.newID(k.name)
			args := append([]string{"run", "--rm"}, k.flags...)
			args = append(append(args, c.runFlags()...), containerdImage, id, "true")
			// The config is captured before the runtime runs it: a
			// failure is the side-by-side test's to judge.
			if r := c.ctr(args...); r.Code != 0 {
				t.Logf("%s: %s", k.name, r)
			}
			cp.take("containerd-" + k.name)
		}
		cp.check(t, c.dir)
	})

	t.Run("CRI", func(t *testing.T) {
		crictl, err := crictlPath()
		if err != nil {
			t.Skipf("skipping: %v", err)
		}
		needBinaries(t, "containerd", "containerd-shim-runc-v2")
		t.Parallel()
		cp, bin := newCapture(t)
		c := startCRIWith(t, crictl, bin)
		for _, k := range []struct {
			name  string
			linux map[string]any
		}{
			{"plain", nil},
			{"limits", map[string]any{"resources": map[string]any{
				"memory_limit_in_bytes": 64 << 20, "cpu_period": 100000, "cpu_quota": 50000, "cpu_shares": 512,
			}}},
			{"privileged", map[string]any{"security_context": map[string]any{"privileged": true}}},
		} {
			p := c.privPod(k.name, k.name == "privileged")
			cp.take("cri-" + k.name + "-sandbox")
			id := c.start(p, container{name: k.name, command: []string{"true"}, linux: k.linux})
			cp.take("cri-" + k.name)
			// Stopping the pod while the plugin handles the container's
			// exit races with the shim's own shutdown in containerd
			// 1.6 ("ttrpc: closed"): wait for the exit first.
			c.waitState(id, "CONTAINER_EXITED")
			c.must("stopp", p.id)
			c.must("rmp", p.id)
		}
		// The sandboxes differ only by their privilege.
		delete(cp.got, "cri-limits-sandbox")
		cp.check(t, c.ctrd.dir)
	})

	t.Run("Podman", func(t *testing.T) {
		needBinaries(t, "podman", "conmon")
		t.Parallel()
		cp, bin := newCapture(t)
		p := newPodman(t)
		p.runtime = bin
		for _, k := range []struct {
			name  string
			flags []string
		}{
			{"plain", nil},
			{"limits", []string{"--memory", "64m", "--cpus", "0.5", "--cpu-shares", "512", "--pids-limit", "50"}},
			{"privileged", []string{"--privileged"}},
			{"userns", []string{"--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536"}},
		} {
			if r := p.podman(p.runArgs(append([]string{"--rm"}, k.flags...), "true")...); r.Code != 0 {
				t.Logf("%s: %s", k.name, r)
			}
			cp.take("podman-" + k.name)
		}
		cp.check(t, p.dir)
	})

	t.Run("Docker", func(t *testing.T) {
		needBinaries(t, "dockerd", "containerd", "containerd-shim-runc-v2")
		if _, err := os.Stat(dockerBin); err != nil {
			t.Skipf("skipping: %s not installed (Debian: apt-get install docker.io)", dockerBin)
		}
		t.Parallel()
		cp, bin := newCapture(t)
		d := startDockerdWith(t, bin)
		d.loadImage()
		for _, k := range []struct {
			name  string
			flags []string
		}{
			{"plain", nil},
			{"limits", []string{"--memory", "64m", "--memory-swap", "96m", "--cpus", "0.5", "--cpu-shares", "512", "--pids-limit", "50"}},
			{"privileged", []string{"--privileged"}},
		} {
			if r := d.docker(d.runArgs(append([]string{"--rm"}, k.flags...), "true")...); r.Code != 0 {
				t.Logf("%s: %s", k.name, r)
			}
			cp.take("docker-" + k.name)
		}
		cp.check(t, d.dir)
	})
}

// check normalises what was captured, fails the test if a path under
// the engine's temporary directory tmp is left, and with -update-corpus
// writes the configs into the corpus.
func (c *capture) check(t *testing.T, tmp string) {
	t.Helper()
	for name, raw := range c.got {
		out, err := corpus.Normalize(raw, corpus.HostPaths{Temp: []string{tmp}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.Contains(string(out), tmp) {
			t.Errorf("%s: normalised config still names %s:\n%s", name, tmp, out)
		}
		if *updateCorpus {
			if err := corpus.Write(name, out); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// privPod is runPod of a pod named name, privileged or not: a
// privileged container needs a privileged pod.
func (c *cri) privPod(name string, privileged bool) *pod {
	c.t.Helper()
	p := &pod{
		config: filepath.Join(c.ctrd.dir, "pod-"+name+".json"),
		cgroup: filepath.Join(c.cgroupParent, "pod-"+name),
	}
	sc := map[string]any{"namespace_options": map[string]any{"pid": 0}}
	if privileged {
		sc["privileged"] = true
	}
	writeJSON(c.t, p.config, map[string]any{
		"metadata":      map[string]any{"name": name, "namespace": "corral", "uid": "uid-" + name},
		"hostname":      "corral-" + name,
		"log_directory": filepath.Join(c.ctrd.dir, "logs", name),
		"linux":         map[string]any{"cgroup_parent": c.podParent(p, "pod-"+name), "security_context": sc},
	})
	p.id = strings.TrimSpace(c.must("runp", p.config).Stdout)
	return p
}
