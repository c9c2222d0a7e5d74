// Package rootless runs corral as an ordinary user: a user namespace
// mapping the caller's ids (and the ranges /etc/subuid and /etc/subgid
// grant, through newuidmap and newgidmap), state under XDG_RUNTIME_DIR,
// no cgroup unless one is delegated.
package rootless

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// userName is the unprivileged user the tests create and run as.
const userName = "corral-rootless"

var (
	corral  string // the binary, readable by the user
	work    string // a directory the user owns
	busybox string
	uid     int
	gid     int
	subID   int // start of the user's /etc/subuid and /etc/subgid range
)

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("skipping the rootless tests: they need root to create the unprivileged user they run as")
		os.Exit(0)
	}
	code, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "rootless tests:", err)
		os.Exit(1)
	}
	if code >= 0 {
		os.Exit(code)
	}
	code = m.Run()
	os.RemoveAll(work)
	os.Exit(code)
}

// setup makes the user, its id ranges, a work directory it owns, corral
// and a busybox rootfs. It returns a code to exit with when the tests
// cannot run here, or -1.
func setup() (int, error) {
	for _, tool := range []string{"useradd", "newuidmap", "newgidmap", "setpriv"} {
		if _, err := exec.LookPath(tool); err != nil {
			if tool == "newuidmap" || tool == "newgidmap" {
				return -1, fmt.Errorf("%s is missing: apt-get install uidmap", tool)
			}
			return -1, fmt.Errorf("%s is missing", tool)
		}
	}
	if _, err := user.Lookup(userName); err != nil {
		if out, err := exec.Command("useradd", "-M", "-s", "/bin/sh", userName).CombinedOutput(); err != nil {
			return -1, fmt.Errorf("useradd: %v: %s", err, out)
		}
	}
	u, err := user.Lookup(userName)
	if err != nil {
		return -1, err
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	if subID, err = ensureSubIDs(); err != nil {
		return -1, err
	}
	// Everything the user touches lives in one directory it owns,
	// reachable through directories anyone may traverse.
	if work, err = os.MkdirTemp("/tmp", "corral-rootless-"); err != nil {
		return -1, err
	}
	os.Chmod(work, 0o755)
	corral = filepath.Join(work, "corral")
	build := exec.Command("go", "build", "-o", corral, "./cmd/corral")
	build.Dir = "../../.."
	if out, err := build.CombinedOutput(); err != nil {
		return -1, fmt.Errorf("build corral: %v: %s", err, out)
	}
	busybox, _ = filepath.Abs("../../rootfs/busybox")
	if out, err := exec.Command("../../rootfs/build.sh", busybox).CombinedOutput(); err != nil {
		return -1, fmt.Errorf("build rootfs: %v: %s", err, out)
	}
	return -1, nil
}

// ensureSubIDs returns the start of the user's subordinate id range,
// granting 65536 ids if it has none.
func ensureSubIDs() (int, error) {
	start := -1
	for _, file := range []string{"/etc/subuid", "/etc/subgid"} {
		b, _ := os.ReadFile(file)
		found := -1
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			f := strings.Split(sc.Text(), ":")
			if len(f) == 3 && f[0] == userName {
				found, _ = strconv.Atoi(f[1])
			}
		}
		if found < 0 {
			found = 400000
			line := fmt.Sprintf("%s:%d:65536\n", userName, found)
			f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return -1, err
			}
			f.WriteString(line)
			f.Close()
		}
		if start >= 0 && found != start {
			return -1, fmt.Errorf("%s grants %s a range at %d, the other file at %d", file, userName, found, start)
		}
		start = found
	}
	return start, nil
}

// env is one test's state root and bundle, owned by the user.
type env struct {
	t      *testing.T
	dir    string
	xdg    string
	bundle string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir, err := os.MkdirTemp(work, "t-")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir, xdg: filepath.Join(dir, "xdg"), bundle: filepath.Join(dir, "bundle")}
	os.MkdirAll(e.xdg, 0o700)
	os.MkdirAll(e.bundle, 0o755)
	if out, err := exec.Command("cp", "-a", busybox, filepath.Join(e.bundle, "rootfs")).CombinedOutput(); err != nil {
		t.Fatalf("copy rootfs: %v: %s", err, out)
	}
	if out, err := exec.Command("chown", "-R", fmt.Sprintf("%d:%d", uid, gid), dir).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v: %s", err, out)
	}
	if _, err := e.corral("spec", "--rootless", "--bundle", e.bundle); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		out, _ := e.corral("list", "-q")
		for _, id := range strings.Fields(out) {
			e.corral("delete", "--force", id)
		}
		if out, _ := e.corral("list", "-q"); strings.TrimSpace(out) != "" {
			t.Errorf("containers left: %s", out)
		}
		os.RemoveAll(dir)
	})
	return e
}

// corral runs corral as the user and returns its combined output.
func (e *env) corral(args ...string) (string, error) {
	cmd := exec.Command(corral, args...)
	cmd.Dir = e.bundle
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "XDG_RUNTIME_DIR=" + e.xdg, "HOME=" + e.dir}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	// One file for both, in the order a terminal would show them,
	// owned by the user like the container's own files.
	f, err := os.CreateTemp(e.dir, "out-")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	f.Chown(uid, gid)
	cmd.Stdout, cmd.Stderr = f, f
	r := itest.Run(cmd, itest.CmdTimeout)
	out, _ := os.ReadFile(f.Name())
	if r.Err != nil {
		return string(out), fmt.Errorf("corral %s: %w: %s", strings.Join(args, " "), r.Err, out)
	}
	if r.Code != 0 {
		return string(out), fmt.Errorf("corral %s: exit status %d: %s", strings.Join(args, " "), r.Code, out)
	}
	return string(out), nil
}

// edit changes the bundle's config.json.
func (e *env) edit(f func(c map[string]any)) {
	e.t.Helper()
	path := filepath.Join(e.bundle, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		e.t.Fatal(err)
	}
	f(c)
	if b, err = json.MarshalIndent(c, "", "\t"); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) args(args ...string) {
	e.edit(func(c map[string]any) {
		p := c["process"].(map[string]any)
		p["terminal"] = false
		p["args"] = args
	})
}

func mapping(container, host, size int) map[string]any {
	return map[string]any{"containerID": container, "hostID": host, "size": size}
}

func (e *env) subIDMappings() {
	e.edit(func(c map[string]any) {
		l := c["linux"].(map[string]any)
		l["uidMappings"] = []any{mapping(0, uid, 1), mapping(1, subID, 65536)}
		l["gidMappings"] = []any{mapping(0, gid, 1), mapping(1, subID, 65536)}
	})
}

func TestRunSingleMapping(t *testing.T) {
	e := newEnv(t)
	e.args("sh", "-c", "id -u; cat /proc/self/uid_map; hostname; echo hi > /dev/null && echo devnull-ok")
	out, err := e.corral("run", "single")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(out)
	want := []string{"0", "0", strconv.Itoa(uid), "1"}
	if len(fields) < 4 || strings.Join(fields[:4], " ") != strings.Join(want, " ") || !strings.Contains(out, "devnull-ok") {
		t.Fatalf("output %q, want root mapped to uid %d", out, uid)
	}
	if _, err := os.Stat(filepath.Join(e.xdg, "corral")); err != nil {
		t.Errorf("state root is not under XDG_RUNTIME_DIR: %v", err)
	}
}

func TestRunSubIDMapping(t *testing.T) {
	e := newEnv(t)
	e.subIDMappings()
	e.args("sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; touch /tmp/f; chown 1000:1000 /tmp/f 2>&1; stat -c %u:%g /tmp/f")
	e.edit(func(c map[string]any) {
		c["root"].(map[string]any)["readonly"] = false
		caps := []string{"CAP_CHOWN", "CAP_KILL"}
		c["process"].(map[string]any)["capabilities"] = map[string]any{"bounding": caps, "effective": caps, "permitted": caps}
	})
	out, err := e.corral("run", "subid")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, strconv.Itoa(subID)) || !strings.HasSuffix(strings.TrimSpace(out), "1000:1000") {
		t.Fatalf("output %q: the subordinate range is not mapped", out)
	}
	// The file belongs on the host to the subordinate id of 1000.
	b, _ := exec.Command("stat", "-c", "%u", filepath.Join(e.bundle, "rootfs/tmp/f")).Output()
	if strings.TrimSpace(string(b)) != strconv.Itoa(subID+999) {
		t.Fatalf("host owner of the file is %s, want %d", b, subID+999)
	}
}

func TestLifecycle(t *testing.T) {
	e := newEnv(t)
	e.subIDMappings()
	e.args("sleep", "1000")
	if _, err := e.corral("create", "life"); err != nil {
		t.Fatal(err)
	}
	if out, _ := e.corral("list"); !strings.Contains(out, "life") || !strings.Contains(out, "created") {
		t.Fatalf("list: %s", out)
	}
	if _, err := e.corral("start", "life"); err != nil {
		t.Fatal(err)
	}
	out, err := e.corral("exec", "--user", "1000:1000", "life", "sh", "-c", "id -u; ps -o pid,comm | grep sleep")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "1000\n") || !strings.Contains(out, "sleep") {
		t.Fatalf("exec output %q", out)
	}
	var st struct {
		Status string `json:"status"`
		Pid    int    `json:"pid"`
	}
	out, _ = e.corral("state", "life")
	json.Unmarshal([]byte(out), &st)
	if st.Status != "running" || st.Pid == 0 {
		t.Fatalf("state %s", out)
	}
	if _, err := e.corral("kill", "life", "KILL"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		out, _ = e.corral("state", "life")
		if strings.Contains(out, `"stopped"`) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(out, `"stopped"`) {
		t.Fatalf("state after kill: %s", out)
	}
	if _, err := e.corral("delete", "life"); err != nil {
		t.Fatal(err)
	}
	if out, _ := e.corral("list", "-q"); strings.TrimSpace(out) != "" {
		t.Fatalf("list after delete: %q", out)
	}
}

// TestPrivilegedConfigsRefused: what needs root is refused with an error
// that says what.
func TestPrivilegedConfigsRefused(t *testing.T) {
	for name, tt := range map[string]struct {
		edit func(c map[string]any)
		want string
	}{
		"no user namespace": {func(c map[string]any) {
			l := c["linux"].(map[string]any)
			var ns []any
			for _, n := range l["namespaces"].([]any) {
				if n.(map[string]any)["type"] != "user" {
					ns = append(ns, n)
				}
			}
			l["namespaces"] = ns
			delete(l, "uidMappings")
			delete(l, "gidMappings")
		}, "needs a user namespace"},
		"memory limit without a delegated cgroup": {func(c map[string]any) {
			c["linux"].(map[string]any)["resources"] = map[string]any{"memory": map[string]any{"limit": 64 << 20}}
		}, "cgroups.resources.memory"},
		"ids not granted": {func(c map[string]any) {
			l := c["linux"].(map[string]any)
			l["uidMappings"] = []any{mapping(0, 0, 1)}
		}, "uid_mappings"},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.args("true")
			e.edit(tt.edit)
			out, err := e.corral("run", "refused")
			if err == nil || !strings.Contains(out, tt.want) {
				t.Fatalf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
}
