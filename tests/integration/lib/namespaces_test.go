package lib

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"
)

// nsLink is what /proc/self/ns/<name> points at on the host.
func nsLink(t *testing.T, name string) string {
	l, err := os.Readlink("/proc/self/ns/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestNamespacesPrivate checks that each namespace the config lists is
// new, and each it leaves out is the host's.
func TestNamespacesPrivate(t *testing.T) {
	for _, ns := range []struct {
		typ  configs.NamespaceType
		file string
	}{
		{configs.NEWNET, "net"},
		{configs.NEWUTS, "uts"},
		{configs.NEWIPC, "ipc"},
		{configs.NEWPID, "pid"},
		{configs.NEWCGROUP, "cgroup"},
		{configs.NEWTIME, "time"},
		{configs.NEWUSER, "user"},
	} {
		t.Run(ns.file, func(t *testing.T) {
			cfg := newConfig(t, busybox)
			if !cfg.Namespaces.Contains(ns.typ) {
				cfg.Namespaces.Add(ns.typ, "")
			}
			if ns.typ == configs.NEWUSER {
				cfg.UIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
				cfg.GIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
			}
			out := strings.TrimSpace(sh(t, cfg, "readlink /proc/self/ns/"+ns.file))
			if out == nsLink(t, ns.file) {
				t.Fatalf("%s namespace is the host's (%s)", ns.file, out)
			}
			// Without it, the container shares the host's.
			cfg = newConfig(t, busybox)
			cfg.Namespaces.Remove(ns.typ)
			if ns.typ == configs.NEWUTS {
				cfg.Hostname = ""
			}
			if ns.typ == configs.NEWNET {
				cfg.Networks = nil
			}
			if ns.typ == configs.NEWPID {
				return // a container without a pid namespace is tested below
			}
			out = strings.TrimSpace(sh(t, cfg, "readlink /proc/self/ns/"+ns.file))
			if out != nsLink(t, ns.file) {
				t.Fatalf("%s namespace is %s, want the host's %s", ns.file, out, nsLink(t, ns.file))
			}
		})
	}
}

func TestPidNamespace(t *testing.T) {
	out := sh(t, newConfig(t, busybox), "echo $$; ps -o pid= | wc -l")
	if !strings.HasPrefix(out, "1\n") {
		t.Fatalf("init is not pid 1: %q", out)
	}
}

func TestNoPidNamespace(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.Namespaces.Remove(configs.NEWPID)
	out := strings.TrimSpace(sh(t, cfg, "echo $$"))
	if out == "1" {
		t.Fatal("init is pid 1 without a pid namespace")
	}
}

func TestNetworkNamespaceLoopback(t *testing.T) {
	out := sh(t, newConfig(t, busybox), "ip -o link show")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "lo: <LOOPBACK,UP") {
		t.Fatalf("want only lo, up:\n%s", out)
	}
}

func TestUserNamespaceMapping(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.Namespaces.Add(configs.NEWUSER, "")
	cfg.UIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 200000, Size: 1000}}
	cfg.GIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 300000, Size: 1000}}
	out := sh(t, cfg, "cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /tmp/x && stat -c %u:%g /tmp/x",
		func(p *libcontainer.Process) { p.User = "0" })
	fields := strings.Fields(out)
	want := []string{"0", "200000", "1000", "0", "300000", "1000", "0", "0:0"}
	if strings.Join(fields, " ") != strings.Join(want, " ") {
		t.Fatalf("got %q, want %q", fields, want)
	}
}

func TestCgroupNamespace(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.Namespaces.Add(configs.NEWCGROUP, "")
	out := sh(t, cfg, "cat /proc/self/cgroup")
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasSuffix(l, ":/") {
			t.Fatalf("cgroup namespace root is not the container's cgroup: %q", l)
		}
	}
}

func TestTimeNamespaceOffsets(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.Namespaces.Add(configs.NEWTIME, "")
	cfg.TimeOffsets = map[string]specs.LinuxTimeOffset{
		"boottime":  {Secs: 86400 * 365},
		"monotonic": {Secs: 86400 * 30},
	}
	out := sh(t, cfg, "cut -d. -f1 /proc/uptime")
	var uptime int
	fmt.Sscan(out, &uptime)
	if uptime < 86400*365 {
		t.Fatalf("uptime %d s does not carry the boottime offset", uptime)
	}
}

// TestJoinNamespacesByPath starts a container and a second one that joins
// its network, uts and ipc namespaces by path.
func TestJoinNamespacesByPath(t *testing.T) {
	first, p := startLong(t, newConfig(t, busybox))
	pid, err := p.Pid()
	if err != nil {
		t.Fatal(err)
	}
	_ = first
	cfg := newConfig(t, busybox)
	cfg.Hostname = ""
	cfg.Networks = nil
	for _, ns := range []configs.NamespaceType{configs.NEWNET, configs.NEWUTS, configs.NEWIPC} {
		cfg.Namespaces.Add(ns, fmt.Sprintf("/proc/%d/ns/%s", pid, ns.File()))
	}
	out := sh(t, cfg, "hostname; for n in net uts ipc; do readlink /proc/self/ns/$n; done")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != "corral" {
		t.Fatalf("hostname %q, want the first container's", lines[0])
	}
	for i, ns := range []string{"net", "uts", "ipc"} {
		want, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
		if lines[i+1] != want {
			t.Errorf("%s namespace %s, want %s", ns, lines[i+1], want)
		}
	}
}

// TestJoinUserAndMountNamespace joins the user and mount namespaces of a
// running container: the C bootstrap must do it before Go starts.
func TestJoinUserAndMountNamespace(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.Namespaces.Add(configs.NEWUSER, "")
	cfg.UIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	cfg.GIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	_, p := startLong(t, cfg)
	pid, _ := p.Pid()

	joined := newConfig(t, busybox)
	joined.Namespaces.Add(configs.NEWUSER, fmt.Sprintf("/proc/%d/ns/user", pid))
	joined.Namespaces.Add(configs.NEWNET, fmt.Sprintf("/proc/%d/ns/net", pid))
	joined.Networks = nil
	joined.Devices = nil
	out := sh(t, joined, "cat /proc/self/uid_map; readlink /proc/self/ns/user")
	want, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", pid))
	if !strings.Contains(out, "100000") || !strings.Contains(out, want) {
		t.Fatalf("did not join the user namespace %s:\n%s", want, out)
	}
}

// startLong starts a container running sleep and destroys it when the
// test ends.
func startLong(t *testing.T, cfg *configs.Config) (*libcontainer.Container, *libcontainer.Process) {
	t.Helper()
	c, err := libcontainer.Create(t.TempDir(), randomID(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := &libcontainer.Process{Args: []string{"/bin/sleep", "1000"}, Env: []string{"PATH=/bin"}, Init: true}
	if err := c.Run(p); err != nil {
		c.Destroy()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Destroy(); err != nil {
			t.Errorf("destroy: %v", err)
		}
		done := make(chan struct{})
		go func() { p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("init did not exit after destroy")
		}
	})
	return c, p
}
