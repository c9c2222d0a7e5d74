package engines

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/cgroups/systemd"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

const (
	// criImage is the image the pods' containers run.
	criImage = "docker.io/library/corral-busybox:test"
	// pauseImage is the pods' sandbox image: no registry is reachable,
	// so it is imported, and the CRI plugin's sandbox_image names it.
	pauseImage = "docker.io/library/corral-pause:test"
	// pauseCmd is what the sandbox container runs: it only holds the
	// pod's namespaces.
	pauseCmd = "sleep 2147483647"
)

// cniPlugin is the network of the test's pods: a CNI plugin that only
// brings the loopback of the pod's network namespace up and reports
// 127.0.0.1 on a nominal eth0, so that pods get a namespace of their own
// and the CRI plugin the address it wants, and the host's network is not
// touched. The CRI plugin runs it as "loopback" too, for the network of
// its own it adds. It answers in the configuration's CNI version, and
// logs its calls to cni.log beside its directory.
const cniPlugin = `#!/bin/sh
conf=$(cat)
ver=$(printf '%s' "$conf" | sed -n 's/.*"cniVersion" *: *"\([^"]*\)".*/\1/p')
echo "$CNI_COMMAND $CNI_IFNAME $CNI_NETNS $conf" >>"$(dirname "$0")/../cni.log"
case $CNI_COMMAND in
ADD)
	nsenter --net="$CNI_NETNS" ip link set lo up || exit 1
	if [ "$CNI_IFNAME" = lo ]; then
		printf '{"cniVersion":"%s","interfaces":[{"name":"lo","sandbox":"%s"}]}\n' "$ver" "$CNI_NETNS"
	else
		printf '{"cniVersion":"%s","interfaces":[{"name":"%s","sandbox":"%s"}],"ips":[{"version":"4","interface":0,"address":"127.0.0.1/8"}]}\n' \
			"$ver" "$CNI_IFNAME" "$CNI_NETNS"
	fi ;;
VERSION)
	printf '{"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0"]}\n' ;;
esac
`

// cri is containerd with its CRI plugin, on temporary paths, running
// pods and containers with corral (the runc shim's BinaryName), driven
// by crictl as the kubelet drives it.
type cri struct {
	t      *testing.T
	ctrd   *containerd
	crictl string
	// config is crictl's configuration: the endpoints.
	config string
	// cgroupParent holds the pods' cgroups: a path, or with systemd
	// (systemdCgroup) a slice, corralcriHEX.slice.
	cgroupParent string
}

// systemdCgroup: on a host whose init is systemd, the CRI plugin drives
// corral as the kubelet does there, with the systemd cgroup driver
// (SystemdCgroup = true): every pod a slice the kubelet makes first,
// every container a scope in it, "cri-containerd-ID.scope".
var systemdCgroup = isDir("/run/systemd/system")

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// systemctl runs systemctl or busctl (name) and fails the test unless it
// succeeds.
func systemctl(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// crictlPath finds crictl: on PATH, or where tests/setup.sh installs it.
func crictlPath() (string, error) {
	if p, err := exec.LookPath("crictl"); err == nil {
		return p, nil
	}
	p := filepath.Join(build.Default.GOPATH, "bin", "crictl")
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return p, nil
}

// startCRI starts containerd with the CRI plugin and imports the test's
// images; cleanups stop it and remove everything it made.
func startCRI(t *testing.T, crictl string) *cri {
	t.Helper()
	return startCRIWith(t, crictl, corralBin)
}

// startCRIWith is startCRI with runtime as the runc shim's BinaryName.
func startCRIWith(t *testing.T, crictl, runtime string) *cri {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	ctrd := newContainerd(t, "k8s.io")
	c := &cri{
		t:            t,
		ctrd:         ctrd,
		crictl:       crictl,
		config:       filepath.Join(ctrd.dir, "crictl.yaml"),
		cgroupParent: "/corral-cri-" + hex.EncodeToString(b),
	}
	ctrd.cgroupRoot = c.cgroupParent
	if systemdCgroup {
		// No dash: the slice is a child of the root slice.
		c.cgroupParent = "corralcri" + hex.EncodeToString(b) + ".slice"
		// systemd's units, which the cleanup stops.
		ctrd.cgroupRoot = ""
	}
	// Registered after the containerd's cleanup, so run before it:
	// the pods go while the daemon runs.
	t.Cleanup(c.cleanup)

	dir := ctrd.dir
	cniBin, cniConf := filepath.Join(dir, "cni", "bin"), filepath.Join(dir, "cni", "conf")
	for _, d := range []string{cniBin, cniConf, filepath.Join(dir, "logs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"corral-lo", "loopback"} {
		if err := os.WriteFile(filepath.Join(cniBin, name), []byte(cniPlugin), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	netconf := `{"cniVersion": "1.0.0", "name": "corral", "plugins": [{"type": "corral-lo"}]}`
	if err := os.WriteFile(filepath.Join(cniConf, "10-corral.conflist"), []byte(netconf), 0o644); err != nil {
		t.Fatal(err)
	}
	crictlConf := fmt.Sprintf("runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 30\n", ctrd.sock, ctrd.sock)
	if err := os.WriteFile(c.config, []byte(crictlConf), 0o644); err != nil {
		t.Fatal(err)
	}

	// restrict_oom_score_adj: containerd 1.6 gives the sandbox
	// container oom_score_adj -998, which root cannot set without
	// CAP_SYS_RESOURCE; restricted, no container gets less than
	// containerd's own. netns_mounts_under_state_dir keeps the pods'
	// network namespaces out of /var/run/netns.
	ctrd.start(fmt.Sprintf(`
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "corral"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.corral]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.corral.options]
        BinaryName = %q
        Root = %q
        SystemdCgroup = %v
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %q
    conf_dir = %q
`, pauseImage, runtime, ctrd.runcRoot, systemdCgroup, cniBin, cniConf))
	ctrd.importImageAs(criImage, []string{"sh"})
	ctrd.importImageAs(pauseImage, strings.Fields(pauseCmd))
	return c
}

// with is c for subtest t: failures are t's.
func (c *cri) with(t *testing.T) *cri {
	n := *c
	n.t = t
	n.ctrd = c.ctrd.with(t)
	return &n
}

// run runs crictl against the test's containerd.
func (c *cri) run(args ...string) itest.Result {
	return c.runInput("", args...)
}

// runInput is run with input on crictl's stdin.
func (c *cri) runInput(input string, args ...string) itest.Result {
	return runCmdInput(input, cmdTimeout, nil, c.crictl, append([]string{"--config", c.config}, args...)...)
}

// must runs crictl and fails the test unless it succeeds.
func (c *cri) must(args ...string) itest.Result {
	c.t.Helper()
	r := c.run(args...)
	if r.Code != 0 {
		c.fatal(r, "crictl failed")
	}
	return r
}

// fatal fails the test with what went wrong, the command r and the logs.
func (c *cri) fatal(r itest.Result, format string, args ...any) {
	c.t.Helper()
	c.fatalf("%s\n%s", fmt.Sprintf(format, args...), r)
}

// fatalf fails the test with a message and the logs: corral's and the
// shims' (one shim serves a pod), the CNI plugin's calls, containerd's.
func (c *cri) fatalf(format string, args ...any) {
	c.t.Helper()
	var s strings.Builder
	logs, _ := filepath.Glob(filepath.Join(c.ctrd.bundle("*"), "log.json"))
	for _, p := range logs {
		if b, err := os.ReadFile(p); err == nil && len(b) > 0 {
			fmt.Fprintf(&s, "--- %s ---\n%s\n", p, b)
		}
	}
	if b, err := os.ReadFile(filepath.Join(c.ctrd.dir, "cni", "cni.log")); err == nil {
		fmt.Fprintf(&s, "--- CNI plugin calls ---\n%s\n", b)
	}
	c.t.Fatalf("%s\n%s%s", fmt.Sprintf(format, args...), s.String(), c.ctrd.log())
}

// podSpec is what a test asks of a pod.
type podSpec struct {
	name string
	// pidNS is the pod's pid namespace mode: 0 POD (shared by its
	// containers), 1 CONTAINER.
	pidNS int
}

// pod is a pod sandbox the test made.
type pod struct {
	id, config string
	// cgroup is the pod's cgroup parent, relative to a hierarchy's
	// root.
	cgroup string
	pidNS  int
}

// containerCgroup is where container id of p has its cgroup, relative
// to a hierarchy's root.
func (p *pod) containerCgroup(id string) string {
	if systemdCgroup {
		return filepath.Join(p.cgroup, "cri-containerd-"+id+".scope")
	}
	return filepath.Join(p.cgroup, id)
}

// runPod runs a pod sandbox, named spec.name, with a hostname of its
// own, under the test's cgroup parent.
func (c *cri) runPod(spec podSpec) *pod {
	c.t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	uid := hex.EncodeToString(b)
	p := &pod{
		config: filepath.Join(c.ctrd.dir, "pod-"+spec.name+".json"),
		cgroup: filepath.Join(c.cgroupParent, "pod"+uid),
		pidNS:  spec.pidNS,
	}
	parent := c.podParent(p, "pod"+uid)
	cfg := map[string]any{
		"metadata":      map[string]any{"name": spec.name, "namespace": "corral", "uid": uid},
		"hostname":      "corral-" + spec.name,
		"log_directory": filepath.Join(c.ctrd.dir, "logs", spec.name),
		"linux": map[string]any{
			"cgroup_parent": parent,
			"security_context": map[string]any{
				"namespace_options": map[string]any{"pid": spec.pidNS},
			},
		},
	}
	writeJSON(c.t, p.config, cfg)
	p.id = strings.TrimSpace(c.must("runp", p.config).Stdout)
	return p
}

// podParent returns the cgroup_parent of pod p, whose cgroup is under the
// test's as name: p.cgroup, or with systemd a slice, which it makes and
// puts p.cgroup in.
func (c *cri) podParent(p *pod, name string) string {
	c.t.Helper()
	if !systemdCgroup {
		return p.cgroup
	}
	// The kubelet makes the pod's slice before the pod, as a transient
	// unit: kubepods-besteffort-podUID.slice.
	parent := strings.TrimSuffix(c.cgroupParent, ".slice") + "-" + name + ".slice"
	cg, err := systemd.ExpandSlice(parent)
	if err != nil {
		c.t.Fatalf("pod slice %s: %v", parent, err)
	}
	p.cgroup = cg
	systemctl(c.t, "busctl", "call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
		"org.freedesktop.systemd1.Manager", "StartTransientUnit", "ssa(sv)a(sa(sv))",
		parent, "fail", "1", "Description", "s", "corral CRI test pod "+name, "0")
	return parent
}

// container is what a test asks of a container of a pod: its name, its
// command, its working directory (none: the image's) and the rest of its
// CRI configuration (linux.resources, ...), which the pod's namespaces
// are added to.
type container struct {
	name       string
	command    []string
	workingDir string
	linux      map[string]any
}

// start creates container ct in pod p and starts it; it returns its id.
func (c *cri) start(p *pod, ct container) string {
	c.t.Helper()
	linux := map[string]any{}
	for k, v := range ct.linux {
		linux[k] = v
	}
	sc, _ := linux["security_context"].(map[string]any)
	if sc == nil {
		sc = map[string]any{}
	}
	sc["namespace_options"] = map[string]any{"pid": p.pidNS}
	linux["security_context"] = sc
	cfg := map[string]any{
		"metadata": map[string]any{"name": ct.name},
		"image":    map[string]any{"image": criImage},
		"command":  ct.command,
		"log_path": ct.name + ".log",
		"linux":    linux,
	}
	if ct.workingDir != "" {
		cfg["working_dir"] = ct.workingDir
	}
	path := filepath.Join(c.ctrd.dir, "container-"+p.id[:12]+"-"+ct.name+".json")
	writeJSON(c.t, path, cfg)
	id := strings.TrimSpace(c.must("create", p.id, path, p.config).Stdout)
	c.must("start", id)
	return id
}

// writeJSON writes v to path as JSON, which crictl reads as it reads
// YAML.
func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// criStatus is what crictl inspect and inspectp say of a container or a
// pod, the parts the tests read.
type criStatus struct {
	Status struct {
		State    string `json:"state"`
		ExitCode int    `json:"exitCode"`
		Reason   string `json:"reason"`
		Network  struct {
			IP string `json:"ip"`
		} `json:"network"`
	} `json:"status"`
	Info struct {
		Pid         int `json:"pid"`
		RuntimeSpec struct {
			Linux struct {
				Namespaces []struct {
					Type string `json:"type"`
					Path string `json:"path"`
				} `json:"namespaces"`
			} `json:"linux"`
		} `json:"runtimeSpec"`
	} `json:"info"`
}

// netns is the path of the network namespace that the CRI plugin made
// for a pod (from inspectp), which it mounts to keep.
func (s criStatus) netns() string {
	for _, ns := range s.Info.RuntimeSpec.Linux.Namespaces {
		if ns.Type == "network" {
			return ns.Path
		}
	}
	return ""
}

// inspect is crictl's inspect (of a container) or inspectp (of a pod)
// of id.
func (c *cri) inspect(cmd, id string) criStatus {
	c.t.Helper()
	r := c.must(cmd, "--output", "json", id)
	var st criStatus
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
		c.fatal(r, "crictl %s: %v", cmd, err)
	}
	return st
}

// waitState waits until container id is in state (CONTAINER_EXITED,
// ...), and returns its status.
func (c *cri) waitState(id, state string) criStatus {
	c.t.Helper()
	var st criStatus
	if !itest.WaitFor(15*time.Second, func() bool {
		st = c.inspect("inspect", id)
		return st.Status.State == state
	}) {
		c.fatalf("container %s is %s, not %s, after 15s", id, st.Status.State, state)
	}
	return st
}

// nsOf is the identity of process pid's namespace of type ns (net, pid,
// ...).
func nsOf(t *testing.T, pid int, ns string) string {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
	if err != nil {
		t.Fatalf("namespace %s of %d: %v", ns, pid, err)
	}
	return l
}

// removePod stops and removes pod p, whose containers' ids and init
// pids are given, and checks that nothing of it is left: no pod, no
// container, no corral state, no process, no cgroup, no shim, and no
// mount (the rootfs, the pod's /dev/shm, its network namespace).
func (c *cri) removePod(p *pod, ids []string, pids []int) {
	c.t.Helper()
	netns := c.inspect("inspectp", p.id).netns()
	if netns == "" {
		c.fatalf("pod %s: crictl inspectp shows no network namespace", p.id)
	}
	c.must("stopp", p.id)
	c.must("rmp", p.id)
	t := c.t
	if r := c.must("pods", "--quiet"); strings.Contains(r.Stdout, p.id) {
		t.Errorf("pod %s still listed after rmp", p.id)
	}
	r := c.must("ps", "--all", "--quiet")
	for _, id := range append([]string{p.id}, ids...) {
		if strings.Contains(r.Stdout, id) {
			t.Errorf("container %s still listed after rmp", id)
		}
		if _, err := os.Stat(filepath.Join(c.ctrd.runcRoot, c.ctrd.ns, id)); err == nil {
			t.Errorf("corral's state of %s is left", id)
		}
		if d := itest.CgroupDirs(p.containerCgroup(id)); len(d) > 0 {
			t.Errorf("cgroups left: %v", d)
		}
		if systemdCgroup {
			unit := "cri-containerd-" + id + ".scope"
			if out, _ := exec.Command("systemctl", "list-units", "--all", "--no-legend", unit).Output(); len(strings.TrimSpace(string(out))) > 0 {
				t.Errorf("unit left: %s", out)
			}
		}
	}
	for _, pid := range pids {
		if itest.Alive(pid) {
			t.Errorf("process %d of pod %s is alive after rmp", pid, p.id)
		}
	}
	// One shim serves the pod, named after the sandbox.
	if !itest.WaitFor(5*time.Second, func() bool { return len(c.ctrd.shimsOf(p.id)) == 0 }) {
		t.Errorf("shim of pod %s still running: %v", p.id, c.ctrd.shimsOf(p.id))
	}
	mounts := mountsUnder(netns)
	mounts = append(mounts, mountsUnder(filepath.Join(c.ctrd.dir, "state", "io.containerd.grpc.v1.cri", "sandboxes", p.id))...)
	for _, id := range append([]string{p.id}, ids...) {
		mounts = append(mounts, mountsUnder(c.ctrd.bundle(id))...)
	}
	if len(mounts) > 0 {
		t.Errorf("mounts left: %v", mounts)
	}
}

// cleanup removes the pods, also after a failure, while containerd
// runs (its own cleanup then stops it and removes the rest).
func (c *cri) cleanup() {
	if systemdCgroup {
		// After the pods: the slices of the test's pods.
		defer exec.Command("systemctl", "stop", c.cgroupParent).Run()
	}
	if c.ctrd.cmd != nil {
		select {
		case <-c.ctrd.exited:
		default:
			if r := c.run("pods", "--quiet"); strings.TrimSpace(r.Stdout) != "" {
				c.t.Logf("cleanup: removing pods %s", strings.Fields(r.Stdout))
				c.run("rmp", "--all", "--force")
			}
		}
	}
}

// TestCRI runs pods through containerd's CRI plugin with corral as the
// runtime of its runc shim, driven by crictl: a pod sandbox whose
// containers share its namespaces, exec (synchronous and streamed),
// logs, stats, resource limits in the cgroup and their update, stop,
// OOM reporting, removal leaving nothing behind.
func TestCRI(t *testing.T) {
	needBinaries(t, "containerd", "ctr", "containerd-shim-runc-v2", "nsenter", "ip")
	crictl, err := crictlPath()
	if err != nil {
		t.Skipf("skipping: no crictl on PATH or in %s (tests/setup.sh installs it: go install sigs.k8s.io/cri-tools/cmd/crictl@v1.34.0)",
			filepath.Join(build.Default.GOPATH, "bin"))
	}
	t.Parallel()
	c := startCRI(t, crictl)

	t.Run("PodSharedNamespaces", func(t *testing.T) {
		c := c.with(t)
		p := c.runPod(podSpec{name: "shared", pidNS: 0})
		ps := c.inspect("inspectp", p.id)
		if ps.Status.State != "SANDBOX_READY" || ps.Info.Pid <= 0 || ps.Status.Network.IP != "127.0.0.1" {
			c.fatalf("pod %s: state %s, pid %d, ip %q; want SANDBOX_READY, a pid and the CNI plugin's 127.0.0.1",
				p.id, ps.Status.State, ps.Info.Pid, ps.Status.Network.IP)
		}
		// app ends with status 7 on SIGTERM; its limits are what a
		// kubelet asks for a pod with requests and limits; the
		// runtime's default seccomp profile.
		app := c.start(p, container{
			name:    "app",
			command: []string{"sh", "-c", `trap "exit 7" TERM; echo hello; echo oops >&2; sleep 1001 & wait`},
			linux: map[string]any{
				"resources": map[string]any{
					"memory_limit_in_bytes": 64 << 20,
					"cpu_period":            100000,
					"cpu_quota":             50000,
					"cpu_shares":            512,
					"cpuset_cpus":           "0",
					"oom_score_adj":         500,
				},
				"security_context": map[string]any{
					"seccomp": map[string]any{"profile_type": 0},
				},
			},
		})
		// A workingDir that the image lacks: the runtime makes it, as
		// runc does (the CRI plugin leaves it to the runtime).
		side := c.start(p, container{name: "side", command: []string{"sleep", "1002"}, workingDir: "/work/dir"})
		appPid := c.inspect("inspect", app).Info.Pid
		sidePid := c.inspect("inspect", side).Info.Pid
		if appPid <= 0 || sidePid <= 0 {
			c.fatalf("containers' pids %d and %d", appPid, sidePid)
		}

		// The pod's namespaces are its containers': the sandbox
		// holds them. The network namespace is not the host's.
		for _, ns := range []string{"net", "ipc", "uts", "pid"} {
			want := nsOf(t, ps.Info.Pid, ns)
			if a, s := nsOf(t, appPid, ns), nsOf(t, sidePid, ns); a != want || s != want {
				c.fatalf("%s namespace: sandbox %s, app %s, side %s: want them shared", ns, want, a, s)
			}
		}
		if nsOf(t, ps.Info.Pid, "net") == nsOf(t, os.Getpid(), "net") {
			c.fatalf("the pod runs in the host's network namespace")
		}
		if nsOf(t, appPid, "mnt") == nsOf(t, sidePid, "mnt") {
			c.fatalf("app and side share a mount namespace")
		}
		// side sees app's processes, the sandbox's as pid 1.
		r := c.must("exec", "--sync", side, "ps")
		if !strings.Contains(r.Stdout, "sleep 1001") || !strings.Contains(r.Stdout, pauseCmd) {
			c.fatal(r, "ps in side: want app's sleep 1001 and the sandbox's %s", pauseCmd)
		}
		r = c.must("exec", "--sync", side, "sh", "-c", "cat /proc/1/cmdline; echo; hostname; ls /sys/class/net; cat /sys/class/net/lo/operstate; pwd")
		if want := strings.ReplaceAll(pauseCmd, " ", "\x00") + "\x00\ncorral-shared\nlo\nunknown\n/work/dir\n"; strings.TrimRight(r.Stdout, "\n") != strings.TrimRight(want, "\n") {
			c.fatal(r, "side: want pid 1 the sandbox, the pod's hostname, only lo, up, and the cwd /work/dir")
		}

		// exec, synchronous and streamed: output, status, stdin.
		// (crictl prints the process's stderr on its stdout.)
		r = c.must("exec", "--sync", app, "sh", "-c", "echo out; echo err >&2")
		if f := strings.Fields(r.Stdout); len(f) != 2 || f[0] != "out" || f[1] != "err" {
			c.fatal(r, "crictl exec --sync: want out and err")
		}
		r = c.run("exec", "--sync", app, "sh", "-c", "exit 5")
		if r.Code == 0 || !strings.Contains(r.Stderr, "exited with 5") {
			c.fatal(r, "crictl exec --sync of exit 5: want the status reported")
		}
		r = c.run("exec", app, "sh", "-c", "echo streamed; cat /proc/self/oom_score_adj; exit 4")
		if r.Stdout != "streamed\n500\n" || !strings.Contains(r.Stderr, "command terminated with exit code 4") {
			c.fatal(r, "crictl exec: want streamed, oom_score_adj 500 and exit code 4")
		}
		r = c.runInput("from stdin\n", "exec", "--interactive", app, "cat")
		if r.Code != 0 || r.Stdout != "from stdin\n" {
			c.fatal(r, "crictl exec --interactive: want the input back from cat")
		}

		// logs: the CRI log file, per stream.
		r = c.must("logs", app)
		if r.Stdout != "hello\n" || r.Stderr != "oops\n" {
			c.fatal(r, "crictl logs: want hello on stdout and oops on stderr")
		}

		// limits: in the container's cgroup under the pod's.
		cg := p.containerCgroup(app)
		want := cgroupWant{
			v1: map[string]string{
				"memory/memory.limit_in_bytes": "67108864",
				"cpu/cpu.cfs_quota_us":         "50000",
				"cpu/cpu.cfs_period_us":        "100000",
				"cpu/cpu.shares":               "512",
				"cpuset/cpuset.cpus":           "0",
			},
			v2: map[string]string{
				"memory.max":  "67108864",
				"cpu.max":     "50000 100000",
				"cpu.weight":  "59",
				"cpuset.cpus": "0",
			},
		}
		if problems := cgroupProblems(cg, appPid, want); len(problems) > 0 {
			c.fatalf("cgroup %s:\n%s", cg, strings.Join(problems, "\n"))
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/oom_score_adj", appPid)); err != nil || strings.TrimSpace(string(b)) != "500" {
			c.fatalf("app's oom_score_adj: %q (%v), want 500", b, err)
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", appPid)); err != nil || !strings.Contains(string(b), "Seccomp:\t2") {
			c.fatalf("app has no seccomp filter: %s (%v)", b, err)
		}

		// stats: the shim reads the cgroup.
		r = c.must("stats", "--output", "json", app)
		var stats struct {
			Stats []struct {
				CPU struct {
					UsageCoreNanoSeconds struct{ Value string } `json:"usageCoreNanoSeconds"`
				} `json:"cpu"`
				Memory struct {
					WorkingSetBytes struct{ Value string } `json:"workingSetBytes"`
					AvailableBytes  struct{ Value string } `json:"availableBytes"`
				} `json:"memory"`
			} `json:"stats"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &stats); err != nil || len(stats.Stats) != 1 {
			c.fatal(r, "crictl stats: %v", err)
		}
		st := stats.Stats[0]
		ws, _ := strconv.ParseInt(st.Memory.WorkingSetBytes.Value, 10, 64)
		avail, _ := strconv.ParseInt(st.Memory.AvailableBytes.Value, 10, 64)
		cpu, _ := strconv.ParseInt(st.CPU.UsageCoreNanoSeconds.Value, 10, 64)
		if ws <= 0 || cpu <= 0 || ws+avail != 64<<20 {
			c.fatal(r, "crictl stats: want a working set and CPU time, and working set + available = the 64MiB limit")
		}

		// update: what the kubelet does for in-place pod resizing.
		c.must("update", "--memory", strconv.Itoa(128<<20), "--cpu-share", "256", "--cpu-quota", "25000", app)
		want = cgroupWant{
			v1: map[string]string{
				"memory/memory.limit_in_bytes": "134217728",
				"cpu/cpu.cfs_quota_us":         "25000",
				"cpu/cpu.shares":               "256",
			},
			v2: map[string]string{"memory.max": "134217728", "cpu.max": "25000 100000", "cpu.weight": "35"},
		}
		if problems := cgroupProblems(cg, appPid, want); len(problems) > 0 {
			c.fatalf("cgroup %s after crictl update:\n%s", cg, strings.Join(problems, "\n"))
		}

		// stop: SIGTERM, which app traps; side (sleep) gets SIGKILL
		// at once with no grace period.
		start := time.Now()
		c.must("stop", "--timeout", "10", app)
		if el := time.Since(start); el > 8*time.Second {
			t.Errorf("crictl stop took %v: SIGTERM did not reach the shell", el)
		}
		if st := c.waitState(app, "CONTAINER_EXITED"); st.Status.ExitCode != 7 {
			c.fatalf("app's exit code %d after stop, want 7", st.Status.ExitCode)
		}
		c.must("stop", "--timeout", "0", side)
		if st := c.waitState(side, "CONTAINER_EXITED"); st.Status.ExitCode != 137 {
			c.fatalf("side's exit code %d after stop, want 137", st.Status.ExitCode)
		}
		if itest.Alive(appPid) || itest.Alive(sidePid) {
			c.fatalf("a container's init is alive after crictl stop")
		}
		c.must("rm", app, side)
		for _, id := range []string{app, side} {
			if _, err := os.Stat(filepath.Join(c.ctrd.runcRoot, c.ctrd.ns, id)); err == nil {
				t.Errorf("corral's state of %s is left after crictl rm", id)
			}
			if d := itest.CgroupDirs(p.containerCgroup(id)); len(d) > 0 {
				t.Errorf("cgroups left after crictl rm: %v", d)
			}
		}
		c.removePod(p, []string{app, side}, []int{ps.Info.Pid, appPid, sidePid})
	})

	t.Run("OOM", func(t *testing.T) {
		c := c.with(t)
		// A string that doubles until the memory cgroup's limit
		// kills the shell.
		command := []string{"sh", "-c", "x=a; while :; do x=$x$x; done"}
		// systemd before 253 stops a scope once the kernel's OOM kill
		// empties it (scopes have no OOMPolicy there): its cgroup can
		// be gone before containerd's shim reads memory.events, and
		// the exit then reads "Error", whatever the runtime (both of
		// two pods did, once in CI). That race is containerd's and
		// systemd's: with the systemd driver a child of init hogs, and
		// init, left alive by the OOM kill, exits 137 a second later,
		// as a program whose worker was OOM-killed would; a second pod
		// if even that loses.
		tries := 1
		if systemdCgroup {
			command = []string{"sh", "-c", "(x=a; while :; do x=$x$x; done); sleep 1; exit 137"}
			tries = 2
		}
		for try := 1; ; try++ {
			p := c.runPod(podSpec{name: fmt.Sprintf("oom%d", try), pidNS: 1})
			pausePid := c.inspect("inspectp", p.id).Info.Pid
			hog := c.start(p, container{
				name:    "hog",
				command: command,
				linux: map[string]any{
					"resources": map[string]any{"memory_limit_in_bytes": 16 << 20},
				},
			})
			st := c.waitState(hog, "CONTAINER_EXITED")
			if st.Status.Reason == "OOMKilled" && st.Status.ExitCode == 137 {
				// rmp removes the pod's containers with it.
				c.removePod(p, []string{hog}, []int{pausePid})
				return
			}
			if try == tries || st.Status.ExitCode != 137 {
				c.fatalf("hog: reason %q, exit code %d; want OOMKilled and 137", st.Status.Reason, st.Status.ExitCode)
			}
			t.Logf("try %d: reason %q, exit code 137: the scope was stopped before the shim saw the OOM kill; once more", try, st.Status.Reason)
			c.removePod(p, []string{hog}, []int{pausePid})
		}
	})
}
