package security

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// victimCgroup is a host cgroup delegated to the container's root (owned
// by host uid 100000, root of the test's user namespace), as a rootless
// user's own cgroup is: only a read-only mount keeps the container from
// changing it.
type victimCgroup struct {
	dir  string // host path, also the path in a container that binds /sys
	file string // a limit file in it
}

// victimCgroups makes one in the pids hierarchy (cgroup v1) and one in
// the unified hierarchy, where they exist, and removes them when the test
// ends.
func victimCgroups(t *testing.T) []victimCgroup {
	t.Helper()
	var bases []victimCgroup
	if cgroups.IsCgroup2UnifiedMode() {
		bases = append(bases, victimCgroup{"/sys/fs/cgroup", "cgroup.max.descendants"})
	} else {
		bases = append(bases, victimCgroup{"/sys/fs/cgroup/pids", "pids.max"})
		var fs unix.Statfs_t
		if unix.Statfs("/sys/fs/cgroup/unified", &fs) == nil && fs.Type == unix.CGROUP2_SUPER_MAGIC {
			bases = append(bases, victimCgroup{"/sys/fs/cgroup/unified", "cgroup.max.descendants"})
		}
	}
	var victims []victimCgroup
	for _, b := range bases {
		dir := filepath.Join(b.dir, randomID(t)+"-victim")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			os.Remove(filepath.Join(dir, "x"))
			if err := os.Remove(dir); err != nil {
				t.Errorf("remove victim cgroup: %v", err)
			}
		})
		ents, _ := os.ReadDir(dir)
		for _, e := range append([]os.DirEntry{nil}, ents...) {
			p := dir
			if e != nil {
				p = filepath.Join(dir, e.Name())
			}
			if err := os.Chown(p, 100000, 100000); err != nil {
				t.Fatal(err)
			}
		}
		victims = append(victims, victimCgroup{dir, b.file})
	}
	return victims
}

// attackCgroups is the script that tries to change the victims from the
// container; it prints WROTE lines for what worked.
func attackCgroups(victims []victimCgroup, prefix string) string {
	var b strings.Builder
	for _, v := range victims {
		d := prefix + v.dir
		b.WriteString("mkdir " + d + "/x 2>/dev/null && echo WROTE mkdir " + d + "/x; ")
		b.WriteString("echo 5 2>/dev/null > " + d + "/" + v.file + " && echo WROTE " + d + "/" + v.file + "; ")
		b.WriteString("echo $$ 2>/dev/null > " + d + "/cgroup.procs && echo WROTE " + d + "/cgroup.procs; ")
	}
	b.WriteString("echo ===; cat /proc/self/mountinfo")
	return b.String()
}

// checkSysReadonly fails for every mount at or under /sys that is not
// read-only in a container's mountinfo.
func checkSysReadonly(t *testing.T, mountinfo string) {
	t.Helper()
	n := 0
	for _, l := range strings.Split(mountinfo, "\n") {
		f := strings.Fields(l)
		if len(f) < 6 || (f[4] != "/sys" && !strings.HasPrefix(f[4], "/sys/")) {
			continue
		}
		n++
		if !strings.HasPrefix(f[5], "ro") {
			t.Errorf("CVE-2023-25809: %s is mounted writable (%s) in the container", f[4], f[5])
		}
	}
	if n == 0 {
		t.Errorf("no /sys in the container:\n%s", mountinfo)
	}
}

// TestCVE_2023_25809_WritableCgroupfsThroughSysBind: CVE-2023-25809 (in a
// user namespace, /sys is the host's bound recursively, and a read-only
// flag that applies to the top mount only leaves the host's cgroupfs,
// mounted below, writable: the container changes the cgroups its user
// owns on the host). Two ways to get there: a config that binds /sys
// (rbind, ro) as rootless configs do, and a sysfs mount that fails in a
// user namespace without its own network namespace, where the runtime
// falls back to binding the host's /sys. Every mount under /sys must be
// read-only and the delegated victim cgroups must stay unchanged.
func TestCVE_2023_25809_WritableCgroupfsThroughSysBind(t *testing.T) {
	guardMounts(t)
	victims := victimCgroups(t)
	for _, tt := range []struct {
		name string
		mod  func(*configs.Config)
	}{
		{"config binds /sys rbind,ro", func(cfg *configs.Config) {
			removeMount(cfg, "/sys")
			cfg.Mounts = append(cfg.Mounts, &configs.Mount{Source: "/sys", Destination: "/sys", Device: "bind",
				Flags: unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC})
		}},
		{"sysfs refused in the host network namespace", func(cfg *configs.Config) {
			cfg.Namespaces.Remove(configs.NEWNET)
			cfg.Networks = nil
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := newConfig(t, busybox)
			userns(cfg)
			tt.mod(cfg)
			out := sh(t, cfg, attackCgroups(victims, ""))
			for _, v := range victims {
				os.Remove(filepath.Join(v.dir, "x"))
			}
			attack, mountinfo, _ := strings.Cut(out, "===")
			if strings.Contains(attack, "WROTE") {
				t.Errorf("CVE-2023-25809: the container changed the host's cgroups:\n%s", attack)
			}
			checkSysReadonly(t, mountinfo)
			// Both ways must have put the host's /sys, with its cgroupfs
			// submounts, in the container, or nothing was attacked.
			if !strings.Contains(mountinfo, " /sys/fs/cgroup/") {
				t.Errorf("the container does not have the host's /sys; the attack did not happen:\n%s", mountinfo)
			}
		})
	}
	// The control: the same container, given a writable bind of the
	// victims, can change them. Without this the test would prove only
	// that the user namespace's root does not own them.
	t.Run("control", func(t *testing.T) {
		// The mount points are made here: the user namespace's root
		// may not create them in the image.
		rootfs := newRootfs(t)
		for _, v := range victims {
			if err := os.MkdirAll(filepath.Join(rootfs, "victims", v.dir), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		cfg := newConfig(t, rootfs)
		userns(cfg)
		for _, v := range victims {
			cfg.Mounts = append(cfg.Mounts, &configs.Mount{Source: v.dir, Destination: "/victims" + v.dir, Device: "bind", Flags: unix.MS_BIND})
		}
		out := sh(t, cfg, attackCgroups(victims, "/victims"))
		if n := strings.Count(out, "WROTE mkdir"); n != len(victims) || strings.Count(out, "WROTE") < 2*len(victims) {
			t.Errorf("the container's root could not change the victim cgroups through a writable bind either; the test proves nothing:\n%s", out)
		}
		for _, v := range victims {
			os.Remove(filepath.Join(v.dir, "x"))
		}
	})
}
