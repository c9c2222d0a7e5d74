package sidebyside

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corral-oci/corral/tests/integration/internal/corpus"
	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// probe is the process of every bundle: it prints what it sees, section
// by section, says it is done and waits on its stdin, so that the test
// can read its cgroup's limits from the host while it lives, then exits
// with status 3.
const probe = `
echo "== id"; id
echo "== status"; grep -E '^(Cap|NoNewPrivs|Seccomp|Umask)' /proc/self/status
echo "== hostname"; hostname
echo "== env"; env | sort
echo "== cwd"; pwd
echo "== umask"; umask
echo "== limits"; cat /proc/self/limits
echo "== oom_score_adj"; cat /proc/self/oom_score_adj
echo "== mountinfo"; cat /proc/self/mountinfo
echo "== sysctl"
for k in net/ipv4/ip_unprivileged_port_start net/ipv4/ping_group_range net/core/somaxconn net/ipv4/ip_forward; do echo "$k $(cat /proc/sys/$k 2>&1)"; done
echo "== dev"; stat -c '%n %F %a %u %g %t:%T' /dev/* /dev/pts/* 2>&1 | sort
echo "== masked"
for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/acpi /proc/scsi /sys/firmware /proc/sys /proc/sysrq-trigger; do
	if [ -d $p ]; then echo "$p dir $(ls $p 2>&1 | wc -l) $(touch $p/x 2>&1 | sed 's/.*: //')"
	elif [ -e $p ]; then echo "$p file $(head -c1 $p 2>&1 | wc -c)"
	else echo "$p absent"; fi
done
echo "== end"
read x
exit 3
`

// cgroupFiles are the limits the test reads, per v1 hierarchy (cpu and
// cpuacct are mounted apart or together), from the host while the probe
// lives.
var cgroupFiles = map[string][]string{
	"memory":      {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.swappiness"},
	"cpu,cpuacct": {"cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.shares"},
	"cpu":         {"cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.shares"},
	"pids":        {"pids.max"},
	"cpuset":      {"cpuset.cpus", "cpuset.mems"},
	"blkio":       {"blkio.weight"},
}

// knownDifference is a difference between runc and corral that is
// deliberate.
type knownDifference struct {
	// bundle is the corpus name, "*" for every bundle.
	bundle string
	// section is the probe's section ("start" when one refuses the
	// bundle the other runs).
	section string
	// line matches the lines that differ (either runtime's); nil: the
	// whole section.
	line   *regexp.Regexp
	reason string
}

// knownDifferences are the differences the test accepts, each with the
// reason corral differs; every other difference fails it.
var knownDifferences = []knownDifference{
	{"*", "mountinfo", regexp.MustCompile(`^/sys/fs/cgroup \S+ r[ow],`),
		"the tmpfs on /sys/fs/cgroup: corral mounts it read-only as the mount's options ask; runc 1.1 leaves it writable and makes only the hierarchies read-only"},
	{"runc-spec-rootless", "mountinfo", regexp.MustCompile(`^/sys/fs/cgroup/\S+ / r[ow],`),
		"in a user namespace runc 1.1 binds the host's whole v1 hierarchies writable, whatever the mount's ro; corral makes them read-only as asked"},
	{"podman-userns", "dev", regexp.MustCompile(`^/dev/mqueue `),
		"in a user namespace runc 1.1 mounts mqueue before it takes gid 0 there, so the root of the mqueue fs has the overflow gid 65534; corral mounts it as the namespace's root, 0:0"},
	{"*", "mountinfo", regexp.MustCompile(`^/sys/fs/cgroup/unified `),
		"corral mounts the cgroup2 hierarchy of a hybrid host at /sys/fs/cgroup/unified, as the host has it (systemd in a container looks there); runc 1.1 leaves it out"},
	{"*", "mountinfo", regexp.MustCompile(`^/proc/(kcore|keys|timer_list|sched_debug|latency_stats|scsi|acpi|interrupts) |^/sys/(firmware|dev/block|devices/virtual/powercap) `),
		"masked paths: corral binds the host's /dev/null on masked files (runc the container's /dev/null, a tmpfs node or a bind) and masks directories with one read-only tmpfs mounted nosuid,nodev,noexec (runc: a read-only superblock without them); the process sees the same, as the masked section shows"},
}

// outcome is what one runtime made of a bundle.
type outcome struct {
	// started: the probe printed all it had to say.
	started  bool
	code     int
	stderr   string
	sections map[string]string
}

// show logs what corral's probe saw, section by section.
var show = flag.Bool("show", false, "log what the probe saw under corral")

func TestCorpus(t *testing.T) {
	names, err := corpus.Names()
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatalf("no bundles in %s", corpus.Dir())
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(corpus.Dir(), name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			want := runBundle(t, runcBin, name, raw)
			got := runBundle(t, corralBin, name, raw)
			if *show {
				for _, k := range slices.Sorted(maps.Keys(got.sections)) {
					t.Logf("corral's %s:\n%s", k, got.sections[k])
				}
			}
			compare(t, name, want, got)
		})
	}
}

// compare fails the test for every difference between runc's outcome
// and corral's that knownDifferences does not list.
func compare(t *testing.T, name string, runc, corral outcome) {
	t.Helper()
	known := func(section, line string) *knownDifference {
		for i, k := range knownDifferences {
			if (k.bundle == name || k.bundle == "*") && k.section == section && (k.line == nil || k.line.MatchString(line)) {
				return &knownDifferences[i]
			}
		}
		return nil
	}
	differ := func(section, msg string) {
		t.Helper()
		if k := known(section, ""); k != nil && k.line == nil {
			t.Logf("known difference in %s (%s): %s", section, k.reason, msg)
			return
		}
		t.Errorf("%s: %s", section, msg)
	}
	if runc.started != corral.started {
		differ("start", fmt.Sprintf("runc started the probe: %v (exit %d, %q); corral: %v (exit %d, %q)",
			runc.started, runc.code, runc.stderr, corral.started, corral.code, corral.stderr))
		return
	}
	if !runc.started {
		t.Logf("both refuse: runc %q; corral %q", runc.stderr, corral.stderr)
		return
	}
	if runc.code != corral.code {
		differ("exit", fmt.Sprintf("runc %d, corral %d", runc.code, corral.code))
	}
	var keys []string
	for k := range runc.sections {
		keys = append(keys, k)
	}
	for k := range corral.sections {
		if _, ok := runc.sections[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		a, b := runc.sections[k], corral.sections[k]
		if a == b {
			continue
		}
		// Lines a known difference explains are left out of both.
		var reasons []string
		drop := func(text string) string {
			var kept []string
			for _, l := range strings.Split(text, "\n") {
				if d := known(k, l); d != nil && d.line != nil {
					if !slices.Contains(reasons, d.reason) {
						reasons = append(reasons, d.reason)
					}
					continue
				}
				kept = append(kept, l)
			}
			return strings.Join(kept, "\n")
		}
		a, b = drop(a), drop(b)
		for _, r := range reasons {
			t.Logf("known difference in %s: %s", k, r)
		}
		if a != b {
			differ(k, "\n"+lineDiff(a, b))
		}
	}
}

// lineDiff lists the lines only runc's text has (-) and those only
// corral's has (+).
func lineDiff(runc, corral string) string {
	a, b := strings.Split(runc, "\n"), strings.Split(corral, "\n")
	var out []string
	for _, l := range a {
		if !slices.Contains(b, l) {
			out = append(out, "- runc:   "+l)
		}
	}
	for _, l := range b {
		if !slices.Contains(a, l) {
			out = append(out, "+ corral: "+l)
		}
	}
	if len(out) == 0 {
		return "same lines in another order:\n" + runc + "\n---\n" + corral
	}
	return strings.Join(out, "\n")
}

// runBundle runs corpus config raw with runtime rt, the probe as its
// process and a copy of the busybox rootfs, and returns what came of it.
func runBundle(t *testing.T, rt, name string, raw []byte) outcome {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	id := fmt.Sprintf("%s-%s-%s", filepath.Base(rt), name, hex.EncodeToString(b))
	bundle := t.TempDir()
	// The root of a user namespace (podman-userns) maps to an
	// unprivileged host uid, which must reach the rootfs, as it can
	// where engines keep their bundles.
	for _, d := range []string{filepath.Dir(bundle), bundle} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	rootfs := filepath.Join(bundle, "rootfs")
	if out, err := exec.Command("cp", "-a", busybox, rootfs).CombinedOutput(); err != nil {
		t.Fatalf("copy the rootfs: %v: %s", err, out)
	}
	cfg, err := corpus.Instantiate(raw, corpus.Host{Bundle: bundle, Rootfs: rootfs, CgroupsPath: "/" + cgroupParent + "/" + id})
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(cfg, &spec); err != nil {
		t.Fatal(err)
	}
	if err := chownForUserns(spec, bundle); err != nil {
		t.Fatal(err)
	}
	proc := spec["process"].(map[string]any)
	proc["args"] = []string{"/bin/sh", "-c", probe}
	proc["terminal"] = false
	if cfg, err = json.MarshalIndent(spec, "", "\t"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}

	root := filepath.Join(t.TempDir(), "state")
	stdout, err := os.Create(filepath.Join(bundle, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	var stderr strings.Builder
	cmd := exec.Command(rt, "--root", root, "run", "--bundle", bundle, id)
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command(rt, "--root", root, "delete", "--force", id).Run()
	})
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()

	var o outcome
	deadline := time.After(itest.CmdTimeout)
	read := func() string { b, _ := os.ReadFile(stdout.Name()); return string(b) }
wait:
	for !strings.Contains(read(), "== end\n") {
		select {
		case <-done:
			o.code = cmd.ProcessState.ExitCode()
			o.stderr = stderr.String()
			return o
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("%s run %s: no end of the probe in %v; stdout:\n%s\nstderr: %s", rt, name, itest.CmdTimeout, read(), stderr.String())
			break wait
		case <-time.After(20 * time.Millisecond):
		}
	}
	o.started = true
	cg := cgroupLimits(t, rt, root, id)
	stdin.Close()
	select {
	case <-done:
	case <-time.After(itest.CmdTimeout):
		cmd.Process.Kill()
		t.Fatalf("%s run %s: the probe did not end after its stdin closed", rt, name)
	}
	o.code = cmd.ProcessState.ExitCode()
	o.stderr = stderr.String()
	o.sections = sections(read(), bundle, id)
	o.sections["cgroup limits"] = cg
	return o
}

// cgroupLimits reads the limits of container id's init's cgroups.
func cgroupLimits(t *testing.T, rt, root, id string) string {
	t.Helper()
	out, err := exec.Command(rt, "--root", root, "state", id).Output()
	if err != nil {
		t.Fatalf("%s state %s: %v", rt, id, err)
	}
	var st struct{ Pid int }
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", st.Pid))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(l, ":", 3)
		if len(f) != 3 {
			continue
		}
		for _, file := range cgroupFiles[f[1]] {
			v, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", f[1], f[2], file))
			val := strings.TrimSpace(string(v))
			if err != nil {
				val = "unreadable"
			}
			lines = append(lines, file+" "+val)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// sections splits the probe's output by section, with mountinfo
// normalised (mountinfo).
func sections(out, bundle, id string) map[string]string {
	m := map[string]string{}
	var cur string
	var lines []string
	flush := func() {
		if cur == "" {
			return
		}
		text := strings.Join(lines, "\n")
		if cur == "mountinfo" {
			text = mountinfo(text, bundle, id)
		}
		m[cur] = text
	}
	for _, l := range strings.Split(out, "\n") {
		if s, ok := strings.CutPrefix(l, "== "); ok {
			flush()
			cur, lines = s, nil
			continue
		}
		lines = append(lines, l)
	}
	flush()
	delete(m, "end")
	return m
}

// mountinfo keeps of each line of /proc/self/mountinfo what does not
// change from run to run: the mount point, the root of the mount (the
// bundle's path as $BUNDLE, the container's cgroup, named after id, as
// $CGROUP), the per-mount options, the propagation
// (without peer group numbers), the type and the superblock options. The
// mount ids, device numbers and sources go, and the lines are sorted.
func mountinfo(text, bundle, id string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		sep := slices.Index(f, "-")
		if len(f) < 7 || sep < 6 || len(f) < sep+4 {
			continue
		}
		var prop []string
		for _, o := range f[6:sep] {
			tag, _, _ := strings.Cut(o, ":")
			prop = append(prop, tag)
		}
		if len(prop) == 0 {
			prop = []string{"private"}
		}
		root := strings.ReplaceAll(f[3], bundle, "$BUNDLE")
		if strings.HasSuffix(root, "/"+id) {
			// The container's own cgroup, wherever the runtime put it.
			root = "$CGROUP"
		}
		out = append(out, strings.Join([]string{f[4], root, f[5], strings.Join(prop, ","), f[sep+1], f[sep+3]}, " "))
	}
	// Sorted: the order in which runtimes make mounts that do not cover
	// one another (the device binds of a rootless /dev) is no part of
	// what the process sees; a mount that covers another shows in both
	// lists.
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// chownForUserns gives the rootfs and the files the bundle holds to the
// host uid and gid that the config's user namespace maps root to, as the
// engine that wrote the config does with its storage (podman chowns the
// image for --uidmap): the container's root must be able to make mount
// points in its own rootfs.
func chownForUserns(spec map[string]any, bundle string) error {
	linux, _ := spec["linux"].(map[string]any)
	host := func(key string) string {
		maps, _ := linux[key].([]any)
		for _, m := range maps {
			m, _ := m.(map[string]any)
			if fmt.Sprint(m["containerID"]) == "0" {
				return fmt.Sprint(m["hostID"])
			}
		}
		return ""
	}
	uid, gid := host("uidMappings"), host("gidMappings")
	if uid == "" || gid == "" {
		return nil
	}
	for _, p := range []string{"rootfs", "files"} {
		path := filepath.Join(bundle, p)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		if out, err := exec.Command("chown", "-R", uid+":"+gid, path).CombinedOutput(); err != nil {
			return fmt.Errorf("chown %s: %v: %s", path, err, out)
		}
	}
	return nil
}
