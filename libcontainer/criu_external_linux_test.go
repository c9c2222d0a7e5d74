package libcontainer

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/sys/mountinfo"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// The cgroup mounts a checkpoint declares external are the binds of host
// cgroup directories mountCgroup makes: all of them on a v1 or hybrid
// host (where criu fails on the unified one, "doesn't have a proper root
// mount"), the cgroup2 directory on a v2 host without a cgroup namespace,
// none where the container mounts a cgroup2 of its own namespace.
func TestCgroupBindMounts(t *testing.T) {
	cgroupMount := &configs.Mount{Device: "cgroup", Source: "cgroup", Destination: "/sys/fs/cgroup/"}
	hybrid := []*mountinfo.Info{
		{Mountpoint: "/", FSType: "overlay"},
		{Mountpoint: "/sys", FSType: "sysfs"},
		{Mountpoint: "/sys/fs/cgroup", FSType: "tmpfs"},
		{Mountpoint: "/sys/fs/cgroup/cpu,cpuacct", FSType: "cgroup", Root: "/p/c"},
		{Mountpoint: "/sys/fs/cgroup/memory", FSType: "cgroup", Root: "/p/c"},
		{Mountpoint: "/sys/fs/cgroup/unified", FSType: "cgroup2", Root: "/p/c"},
		{Mountpoint: "/sys/fs/cgroupfoo", FSType: "cgroup2"},
	}
	v2 := []*mountinfo.Info{
		{Mountpoint: "/", FSType: "overlay"},
		{Mountpoint: "/sys/fs/cgroup", FSType: "cgroup2", Root: "/p/c"},
	}
	withNS := &configs.Config{Mounts: []*configs.Mount{cgroupMount}, Namespaces: configs.Namespaces{{Type: configs.NEWCGROUP}}}
	withoutNS := &configs.Config{Mounts: []*configs.Mount{cgroupMount}}
	noMount := &configs.Config{}
	for _, tc := range []struct {
		name    string
		cfg     *configs.Config
		mounts  []*mountinfo.Info
		unified bool
		want    []string
	}{
		{"hybrid", withoutNS, hybrid, false, []string{"/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/unified"}},
		{"hybrid, cgroup namespace", withNS, hybrid, false, []string{"/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/unified"}},
		{"v2 without a cgroup namespace", withoutNS, v2, true, []string{"/sys/fs/cgroup"}},
		{"v2, cgroup namespace", withNS, v2, true, nil},
		{"no cgroup mount", noMount, hybrid, false, nil},
	} {
		if got := cgroupBindMounts(tc.cfg, tc.mounts, tc.unified); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// On restore each cgroup mount of the checkpoint is bound from the
// restored container's directory in the hierarchy mountCgroup put there.
func TestCgroupMountSource(t *testing.T) {
	cfg := &configs.Config{Mounts: []*configs.Mount{{Device: "cgroup", Destination: "/sys/fs/cgroup"}}}
	paths := map[string]string{
		"":             "/sys/fs/cgroup/unified/p/c",
		"cpu":          "/sys/fs/cgroup/cpu,cpuacct/p/c",
		"cpuacct":      "/sys/fs/cgroup/cpu,cpuacct/p/c",
		"memory":       "/sys/fs/cgroup/memory/p/c",
		"name=systemd": "/sys/fs/cgroup/systemd/p/c",
	}
	hosts := []cgroupMount{
		{Mountpoint: "/sys/fs/cgroup/cpu,cpuacct", Subsystems: []string{"cpu", "cpuacct"}},
		{Mountpoint: "/sys/fs/cgroup/memory", Subsystems: []string{"memory"}},
		{Mountpoint: "/sys/fs/cgroup/systemd", Subsystems: []string{"systemd"}},
		{Mountpoint: "/sys/fs/cgroup/pids", Subsystems: []string{"pids"}},
	}
	for mp, want := range map[string]string{
		"/sys/fs/cgroup/cpu,cpuacct": "/sys/fs/cgroup/cpu,cpuacct/p/c",
		"/sys/fs/cgroup/memory":      "/sys/fs/cgroup/memory/p/c",
		"/sys/fs/cgroup/systemd":     "/sys/fs/cgroup/systemd/p/c",
		"/sys/fs/cgroup/unified":     "/sys/fs/cgroup/unified/p/c",
		"/sys/fs/cgroup":             "/sys/fs/cgroup/unified/p/c",
	} {
		if got, err := cgroupMountSource(cfg, mp, paths, hosts); got != want || err != nil {
			t.Errorf("%s: %q, %v; want %q", mp, got, err, want)
		}
	}
	for mp, wantErr := range map[string]string{
		// A hierarchy the container has no cgroup in, one this host
		// lacks, a mount point outside the config's cgroup mount.
		"/sys/fs/cgroup/pids":  "cgroups here do not have",
		"/sys/fs/cgroup/rdma":  "cgroups here do not have",
		"/sys/fs/cgroupx/rdma": "config does not have",
	} {
		if got, err := cgroupMountSource(cfg, mp, paths, hosts); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: %q, %v; want an error with %q", mp, got, err, wantErr)
		}
	}
}

// Namespaces joined by path: network and pid ones are external to criu,
// ipc and uts ones joined on restore; the others are refused, saying
// why.
func TestCheckJoinedNamespaces(t *testing.T) {
	for _, tc := range []struct {
		t    configs.NamespaceType
		want string
	}{
		{configs.NEWNET, ""},
		{configs.NEWPID, ""},
		{configs.NEWIPC, ""},
		{configs.NEWUTS, ""},
		{configs.NEWCGROUP, "criu cannot restore into an existing cgroup namespace"},
		{configs.NEWNS, "the mnt namespace is joined by path (/proc/1/ns/x)"},
		{configs.NEWUSER, "only network, pid, ipc and uts namespaces"},
	} {
		cfg := &configs.Config{Namespaces: configs.Namespaces{{Type: configs.NEWNS}, {Type: tc.t, Path: "/proc/1/ns/x"}}}
		err := checkJoinedNamespaces(cfg)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s joined by path: %v, want %q", tc.t.File(), err, tc.want)
		}
	}
}

// The criu configuration file: the annotation's, none when it is "", else
// corral's default, then runc's; an annotation naming no file is refused.
func TestCriuConfigFile(t *testing.T) {
	dir := t.TempDir()
	corralConf, runcConf, given := filepath.Join(dir, "corral.conf"), filepath.Join(dir, "runc.conf"), filepath.Join(dir, "given.conf")
	defer func(saved []string) { defaultCriuConfigs = saved }(defaultCriuConfigs)
	defaultCriuConfigs = []string{corralConf, runcConf}
	write := func(p string) {
		if err := os.WriteFile(p, []byte("tcp-established\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	check := func(labels []string, want, wantErr string) {
		t.Helper()
		got, err := criuConfigFile(labels)
		switch {
		case wantErr == "" && (err != nil || got != want):
			t.Errorf("%q: %q, %v; want %q", labels, got, err, want)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("%q: %q, %v; want an error with %q", labels, got, err, wantErr)
		}
	}
	check([]string{"bundle=/b"}, "", "")
	write(runcConf)
	check([]string{"bundle=/b"}, runcConf, "")
	write(corralConf)
	check(nil, corralConf, "")
	check([]string{"org.criu.config="}, "", "")
	check([]string{"org.criu.config=" + given}, "", "org.criu.config: criu configuration file "+given+": ")
	write(given)
	check([]string{"bundle=/b", "org.criu.config=" + given}, given, "")
	check([]string{"org.criu.config=given.conf"}, "", `"given.conf" is not an absolute path`)
	check([]string{"org.criu.config=" + dir}, "", "is a directory")
}
