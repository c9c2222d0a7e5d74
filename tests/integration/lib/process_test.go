package lib

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/apparmor"
	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

func statusField(out, field string) string {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func TestCapabilities(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.Capabilities = &configs.Capabilities{
		Bounding:    []string{"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN"},
		Effective:   []string{"CAP_KILL", "CAP_CHOWN"},
		Permitted:   []string{"CAP_KILL", "CAP_CHOWN", "CAP_NET_BIND_SERVICE"},
		Inheritable: []string{"CAP_NET_BIND_SERVICE"},
		Ambient:     []string{"CAP_NET_BIND_SERVICE"},
	}
	out := sh(t, cfg, "cat /proc/self/status")
	// KILL=5, CHOWN=0, NET_BIND_SERVICE=10; sh gets the ambient one in
	// every set but bounding after exec, root keeps permitted.
	for field, want := range map[string]string{
		"CapBnd": "0000000000000421",
		"CapInh": "0000000000000400",
		"CapAmb": "0000000000000400",
	} {
		if got := statusField(out, field); got != want {
			t.Errorf("%s = %s, want %s", field, got, want)
		}
	}
}

func TestNoInheritableCapabilitiesByDefault(t *testing.T) {
	out := sh(t, newConfig(t, busybox), "cat /proc/self/status")
	if got := statusField(out, "CapInh"); got != "0000000000000000" {
		t.Fatalf("CapInh = %s, want none (CVE-2022-29162)", got)
	}
}

func TestNoNewPrivileges(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.NoNewPrivileges = true
	if got := statusField(sh(t, cfg, "cat /proc/self/status"), "NoNewPrivs"); got != "1" {
		t.Fatalf("NoNewPrivs = %s", got)
	}
	if got := statusField(sh(t, newConfig(t, busybox), "cat /proc/self/status"), "NoNewPrivs"); got != "0" {
		t.Fatalf("NoNewPrivs = %s without the setting", got)
	}
}

func TestRlimitsAndOomScore(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.Rlimits = []configs.Rlimit{{Type: unix.RLIMIT_NOFILE, Soft: 321, Hard: 654}, {Type: unix.RLIMIT_CORE, Soft: 0, Hard: 0}}
	cfg.OomScoreAdj = ptr(456)
	out := sh(t, cfg, "ulimit -n; ulimit -Hn; ulimit -c; cat /proc/self/oom_score_adj")
	if out != "321\n654\n0\n456\n" {
		t.Fatalf("got %q", out)
	}
}

func TestRlimitAboveHardLimitIsAClearError(t *testing.T) {
	var cur unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &cur)
	cfg := newConfig(t, busybox)
	cfg.Rlimits = []configs.Rlimit{{Type: unix.RLIMIT_NOFILE, Soft: cur.Max + 1, Hard: cur.Max + 1}}
	_, err := run(t, cfg, []string{"true"})
	if err == nil {
		t.Skip("this machine lets root raise a hard limit (CAP_SYS_RESOURCE)")
	}
	if !strings.Contains(err.Error(), "RLIMIT_NOFILE") {
		t.Fatalf("error does not name the limit: %v", err)
	}
}

func TestSysctl(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmax": "12345678", "net.ipv4.conf.all.forwarding": "1"}
	out := sh(t, cfg, "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax")
	if out != "1\n12345678\n" {
		t.Fatalf("got %q", out)
	}
	host, _ := os.ReadFile("/proc/sys/kernel/shmmax")
	if strings.TrimSpace(string(host)) == "12345678" {
		t.Fatal("the host's kernel.shmmax changed")
	}
}

func TestUserLookup(t *testing.T) {
	cfg := newConfig(t, busybox)
	for _, tt := range []struct {
		user   string
		groups []string
		want   string
	}{
		{"", nil, "0 0 0 /root"},
		{"user1", nil, "1000 1000 1000 29 100 /home/user1"},
		{"1000", nil, "1000 1000 1000 29 100 /home/user1"},
		{"1000:5", nil, "1000 5 5 /home/user1"},
		{"daemon", []string{"tty", "4242"}, "1 1 1 5 4242 /usr/sbin"},
		{"4321:4321", nil, "4321 4321 4321 /"},
	} {
		out := sh(t, cfg, `echo $(id -u) $(id -g) $(id -G) $HOME`, func(p *libcontainer.Process) {
			p.User = tt.user
			p.AdditionalGroups = tt.groups
		})
		if strings.TrimSpace(out) != tt.want {
			t.Errorf("user %q groups %v: got %q, want %q", tt.user, tt.groups, strings.TrimSpace(out), tt.want)
		}
	}
	_, err := run(t, cfg, []string{"true"}, func(p *libcontainer.Process) { p.User = "nosuchuser" })
	if err == nil || !strings.Contains(err.Error(), `"nosuchuser"`) {
		t.Fatalf("unknown user: %v", err)
	}
}

// The program runs with every id of the user, real, effective, saved
// and filesystem ones, and only the user's groups.
func TestCredentialsAllIDs(t *testing.T) {
	cfg := newConfig(t, busybox)
	out := sh(t, cfg, `grep -E '^(Uid|Gid|Groups):' /proc/self/status`, func(p *libcontainer.Process) {
		p.User = "1000:5"
		p.AdditionalGroups = []string{"4242"}
	})
	want := "Uid:\t1000\t1000\t1000\t1000\nGid:\t5\t5\t5\t5\nGroups:\t4242 \n"
	if out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}

// TestInitThreadsDropRoot (issue 17 point 2): until start, no thread of
// a created container's init may hold more than the program will: a
// process of the container allowed to ptrace init could make such a
// thread act for it. Every thread's ids, groups, five capability sets,
// no_new_privs and seccomp mode are compared with the program's own
// (cat, reading its status), as root and as a user, with no_new_privs
// and a seccomp filter. Go's other threads kept the runtime's
// capabilities, bounding set, no filter and no no_new_privs.
func TestInitThreadsDropRoot(t *testing.T) {
	errno := uint(13)
	for _, user := range []string{"0:0", "1000:1000"} {
		t.Run("uid"+strings.Split(user, ":")[0], func(t *testing.T) {
			// This test binary is init; it runs in the container again
			// as its wait mode, and is linked dynamically.
			rootfs := newRootfs(t)
			itest.InstallSharedLibs(t, rootfs)
			cfg := newConfig(t, rootfs)
			cfg.NoNewPrivileges = true
			cfg.Seccomp = &configs.Seccomp{
				DefaultAction: configs.Allow,
				Syscalls:      []*configs.Syscall{{Name: "mkdirat", Action: configs.Errno, ErrnoRet: &errno}},
			}
			c, err := libcontainer.Create(t.TempDir(), randomID(t), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Destroy()
			var out syncBuffer
			p := &libcontainer.Process{Args: []string{"cat", "/proc/self/status"}, Env: []string{"PATH=/bin"}, User: user,
				Stdout: &out, Stderr: &out, Init: true}
			if err := c.Start(p); err != nil {
				t.Fatal(err)
			}
			st, err := c.OCIState()
			if err != nil || st.Status != "created" {
				t.Fatalf("state %+v, %v", st, err)
			}
			threads, err := itest.ThreadStatuses(st.Pid)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Exec(); err != nil {
				t.Fatal(err)
			}
			if _, err := p.Wait(); err != nil {
				t.Fatal(err)
			}
			final := itest.StatusFields(out.String())
			if final["Seccomp"] != "2" || final["NoNewPrivs"] != "1" {
				t.Fatalf("the program runs without its filter or no_new_privs: %v", final)
			}
			for _, p := range itest.ThreadCredentials(threads, out.String()) {
				t.Error("init before start: " + p)
			}
		})
	}
}

func TestUmaskCwdEnv(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.Umask = ptr(uint32(0o077))
	out := sh(t, cfg, `umask; pwd; echo $FOO`, func(p *libcontainer.Process) {
		p.Cwd = "/tmp"
		p.Env = append(p.Env, "FOO=bar")
	})
	if out != "0077\n/tmp\nbar\n" {
		t.Fatalf("got %q", out)
	}
}

func TestCwdOutsideRootRefused(t *testing.T) {
	// A missing cwd is made (TestMissingCwdIsMade); one below a file
	// cannot be.
	for _, cwd := range []string{"/proc/self/fd/3", "/etc/passwd/dir"} {
		_, err := run(t, newConfig(t, busybox), []string{"pwd"}, func(p *libcontainer.Process) { p.Cwd = cwd })
		if err == nil || !strings.Contains(err.Error(), "cwd") {
			t.Errorf("cwd %s: %v, want an error naming cwd", cwd, err)
		}
	}
}

func TestPersonality(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.Personality = &configs.Personality{Domain: "LINUX32"}
	if out := sh(t, cfg, "uname -m"); out != "i686\n" {
		t.Fatalf("uname -m = %q under LINUX32", out)
	}
}

func TestDevices(t *testing.T) {
	out := sh(t, newConfig(t, busybox), `ls -l /dev/null /dev/zero /dev/urandom | cut -c1-10; echo hi > /dev/null && echo ok; `+
		`for l in ptmx fd stdin; do readlink /dev/$l; done; head -c 4 /dev/zero | wc -c`)
	for _, want := range []string{"crw-rw-rw-", "ok\n", "pts/ptmx\n/proc/self/fd\n/proc/self/fd/0\n4\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestDevicesInUserNamespaceAreBound(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.Namespaces.Add(configs.NEWUSER, "")
	cfg.UIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	cfg.GIDMappings = []configs.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	out := sh(t, cfg, `echo hi > /dev/null && echo ok; head -c 3 /dev/urandom | wc -c`)
	if out != "ok\n3\n" {
		t.Fatalf("got %q", out)
	}
}

// TestHooks runs every hook kind and checks each saw the state it should.
func TestHooks(t *testing.T) {
	dir := t.TempDir()
	hook := func(name string) configs.Hook {
		return configs.NewCommandHook(configs.Command{
			Path: "/bin/sh",
			Args: []string{"sh", "-c", "(cat; echo; echo $HOOKENV) > " + filepath.Join(dir, name)},
			Env:  []string{"HOOKENV=" + name},
		})
	}
	cfg := newConfig(t, busybox)
	cfg.Labels = []string{"bundle=/some/bundle", "org.example=yes"}
	cfg.Hooks = configs.Hooks{}
	for _, name := range []configs.HookName{configs.Prestart, configs.CreateRuntime, configs.CreateContainer, configs.Poststart, configs.Poststop} {
		cfg.Hooks[name] = []configs.Hook{hook(string(name))}
	}
	// startContainer runs inside the container: only the container's
	// files are there.
	cfg.Hooks[configs.StartContainer] = []configs.Hook{configs.NewCommandHook(configs.Command{
		Path: "/bin/sh", Args: []string{"sh", "-c", "cat > /tmp/startContainer"},
	})}
	out := sh(t, cfg, "cat /tmp/startContainer")
	var st specs.State
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.Pid == 0 {
		t.Errorf("startContainer hook state: %q (%v)", out, err)
	}
	for _, name := range []string{"prestart", "createRuntime", "createContainer", "poststart", "poststop"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s hook did not run: %v", name, err)
			continue
		}
		js, env, _ := strings.Cut(string(b), "\n")
		if strings.TrimSpace(env) != name {
			t.Errorf("%s hook env: %q", name, env)
		}
		var st specs.State
		if err := json.Unmarshal([]byte(js), &st); err != nil {
			t.Errorf("%s hook state: %v", name, err)
			continue
		}
		if st.Bundle != "/some/bundle" || st.Annotations["org.example"] != "yes" || st.ID == "" {
			t.Errorf("%s hook state: %+v", name, st)
		}
		wantStatus := map[string]specs.ContainerState{"prestart": "creating", "createRuntime": "creating",
			"createContainer": "creating", "poststart": "running", "poststop": "stopped"}[name]
		if st.Status != wantStatus {
			t.Errorf("%s hook saw status %s, want %s", name, st.Status, wantStatus)
		}
	}
}

// TestHooksInContainerAsRunc (issue 18): the hooks that run in the
// container's namespaces run as runc runs them. A createContainer hook
// has the rootfs as its working directory; one that names no environment
// gets the process's, as does such a startContainer hook (which runs as
// the process, in its cwd, with HOME set). A failing one is reported as
// "error running <kind> hook #N".
func TestHooksInContainerAsRunc(t *testing.T) {
	dir := t.TempDir()
	cfg := newConfig(t, busybox)
	cfg.Hooks = configs.Hooks{
		configs.CreateContainer: {configs.NewCommandHook(configs.Command{
			Path: "/bin/sh", Args: []string{"sh", "-c", "pwd > " + filepath.Join(dir, "cwd") + "; env > " + filepath.Join(dir, "env")},
		})},
		configs.StartContainer: {configs.NewCommandHook(configs.Command{
			Path: "/bin/sh", Args: []string{"sh", "-c", "{ pwd; env; } > /tmp/startContainer"},
		})},
	}
	out := sh(t, cfg, "cat /tmp/startContainer", func(p *libcontainer.Process) {
		p.Env = append(p.Env, "FOO=bar")
		p.Cwd = "/tmp"
	})
	if got := strings.TrimSpace(readFile(t, filepath.Join(dir, "cwd"))); got != cfg.Rootfs {
		t.Errorf("createContainer hook ran in %q, want the rootfs %q", got, cfg.Rootfs)
	}
	if env := readFile(t, filepath.Join(dir, "env")); !strings.Contains(env, "FOO=bar\n") {
		t.Errorf("createContainer hook without an env got:\n%s", env)
	}
	for _, want := range []string{"/tmp\n", "FOO=bar\n", "HOME=/root\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("startContainer hook without an env: no %q in\n%s", want, out)
		}
	}
	for _, name := range []configs.HookName{configs.CreateContainer, configs.StartContainer} {
		cfg := newConfig(t, busybox)
		cfg.Hooks = configs.Hooks{name: {
			configs.NewCommandHook(configs.Command{Path: "/bin/true"}),
			configs.NewCommandHook(configs.Command{Path: "/bin/false"}),
		}}
		_, err := run(t, cfg, []string{"true"})
		if want := "error running " + string(name) + " hook #1: "; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("a failing %s hook: %v, want an error with %q", name, err, want)
		}
	}
}

func TestFailingHookFailsStartAndCleansUp(t *testing.T) {
	timeout := 200 * time.Millisecond
	for _, tt := range []struct {
		name configs.HookName
		cmd  configs.Command
	}{
		{configs.CreateRuntime, configs.Command{Path: "/bin/false"}},
		{configs.CreateContainer, configs.Command{Path: "/bin/sh", Args: []string{"sh", "-c", "echo boom >&2; exit 3"}}},
		{configs.Prestart, configs.Command{Path: "/bin/sleep", Args: []string{"sleep", "100"}, Timeout: &timeout}},
	} {
		cfg := newConfig(t, busybox)
		cfg.Hooks = configs.Hooks{tt.name: {configs.NewCommandHook(tt.cmd)}}
		start := time.Now()
		_, err := run(t, cfg, []string{"true"})
		if err == nil || !strings.Contains(err.Error(), string(tt.name)) {
			t.Errorf("%s hook failing: %v, want an error naming the hook", tt.name, err)
		}
		if time.Since(start) > 5*time.Second {
			t.Errorf("%s hook timeout was not enforced", tt.name)
		}
	}
}

func TestAppArmorProfileWithoutAppArmor(t *testing.T) {
	if apparmor.IsEnabled() {
		t.Skip("AppArmor is enabled on this host")
	}
	cfg := newConfig(t, busybox)
	cfg.AppArmorProfile = "corral-default"
	_, err := run(t, cfg, []string{"true"})
	// The error crosses from init as text: match the sentinel's words.
	if err == nil || !strings.Contains(err.Error(), apparmor.ErrNotEnabled.Error()) || !strings.Contains(err.Error(), `"corral-default"`) {
		t.Fatalf("got %v, want an error naming the profile and saying AppArmor is off", err)
	}
}

func TestSchedulerAndIOPriority(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.Scheduler = &configs.Scheduler{Policy: "SCHED_BATCH", Nice: 5}
	cfg.IOPriority = &configs.IOPriority{Class: "IOPRIO_CLASS_BE", Priority: 6}
	// Field 19 of /proc/self/stat is the nice value, 41 the policy
	// (SCHED_BATCH is 3).
	out := sh(t, cfg, "cut -d' ' -f19,41 /proc/self/stat; ionice -p $$")
	if out != "5 3\nbest-effort: prio 6\n" {
		t.Fatalf("got %q", out)
	}
}

// The container's execCPUAffinity pins the processes exec'd in it, not
// init, as the runtime spec says and runc does.
func TestExecCPUAffinity(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("this machine has one cpu: an affinity cannot differ from the default")
	}
	cfg := newConfig(t, busybox)
	cfg.Cgroups.Resources.CpusetCpus, cfg.Cgroups.Resources.CpusetMems = "0-1", "0"
	cfg.ExecCPUAffinity = &configs.CPUAffinity{Initial: "1", Final: "0"}
	c, p, _ := startScript(t, cfg, `sleep 1000`)
	pid, err := p.Pid()
	if err != nil {
		t.Fatal(err)
	}
	var inits unix.CPUSet
	if err := unix.SchedGetaffinity(pid, &inits); err != nil {
		t.Fatal(err)
	}
	if !inits.IsSet(0) || !inits.IsSet(1) || inits.Count() != 2 {
		t.Errorf("init runs on %d cpus, want its cpuset's, 0 and 1", inits.Count())
	}
	if out, code := execIn(t, c, []string{"/bin/sh", "-c", "taskset -p $$"}); code != 0 || !strings.HasSuffix(strings.TrimSpace(out), ": 1") {
		t.Errorf("exec: exit %d, affinity %q, want cpu 0 only", code, out)
	}
}

// TestRootPropagationShared: with rshared, a mount the container makes
// under a shared bind of a host directory reaches the host (the
// "bidirectional" mount propagation of Kubernetes).
func TestRootPropagationShared(t *testing.T) {
	host := t.TempDir()
	if err := unix.Mount(host, host, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(host, unix.MNT_DETACH)
	if err := unix.Mount("", host, "", unix.MS_SHARED, ""); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(host, "sub"), 0o755)
	cfg := newConfig(t, busybox)
	cfg.RootPropagation = unix.MS_SHARED | unix.MS_REC
	cfg.Mounts = append(cfg.Mounts, &configs.Mount{Source: host, Destination: "/shared", Device: "bind",
		Flags: unix.MS_BIND | unix.MS_REC, PropagationFlags: []int{unix.MS_SHARED}})
	admin := []string{"CAP_SYS_ADMIN"}
	// Not run(): the mount that reaches the host is the point, not a leak.
	c, err := libcontainer.Create(t.TempDir(), randomID(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Destroy()
	p := &libcontainer.Process{
		Args: []string{"/bin/sh", "-c", "mount -t tmpfs propagated /shared/sub && touch /shared/sub/from-container"},
		Env:  []string{"PATH=/bin"}, Init: true,
		Capabilities: &configs.Capabilities{Bounding: admin, Effective: admin, Permitted: admin},
	}
	if err := c.Run(p); err != nil {
		t.Fatal(err)
	}
	if st, err := p.Wait(); err != nil || !st.Success() {
		t.Fatalf("container: %v %v", st, err)
	}
	defer unix.Unmount(filepath.Join(host, "sub"), unix.MNT_DETACH)
	if _, err := os.Stat(filepath.Join(host, "sub", "from-container")); err != nil {
		t.Fatalf("the container's mount did not propagate to the host: %v", err)
	}
}

// TestSeccompFilterCache: the runtime compiles a profile once per state
// root and reuses it; a damaged entry is compiled again.
func TestSeccompFilterCache(t *testing.T) {
	root := t.TempDir()
	errno := uint(13)
	cfg := newConfig(t, busybox)
	cfg.Seccomp = &configs.Seccomp{
		DefaultAction: configs.Allow,
		Syscalls:      []*configs.Syscall{{Name: "mkdirat", Action: configs.Errno, ErrnoRet: &errno}, {Name: "mkdir", Action: configs.Errno, ErrnoRet: &errno}},
	}
	runIn := func() string {
		c, err := libcontainer.Create(root, randomID(t), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Destroy()
		var out syncBuffer
		p := &libcontainer.Process{Args: []string{"/bin/sh", "-c", "mkdir /tmp/x 2>&1; true"}, Env: []string{"PATH=/bin"},
			Stdout: &out, Stderr: &out, Init: true}
		if err := c.Run(p); err != nil {
			t.Fatal(err)
		}
		p.Wait()
		return out.String()
	}
	for i := 0; i < 3; i++ {
		if out := runIn(); !strings.Contains(out, "Permission denied") {
			t.Fatalf("run %d: the filter did not deny mkdir: %q", i, out)
		}
		entries, _ := filepath.Glob(filepath.Join(root, ".cache", "seccomp", "*"))
		if len(entries) != 1 {
			t.Fatalf("run %d: cache holds %v, want one compiled filter", i, entries)
		}
		if i == 1 {
			os.WriteFile(entries[0], []byte("damaged"), 0o600)
		}
	}
}
