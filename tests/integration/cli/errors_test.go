package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

func TestBadBundle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	missing := filepath.Join(t.TempDir(), "no-such-bundle")
	e.fails([]string{id, missing}, "create", "--bundle", missing, id)
	e.fails([]string{id, missing}, "run", "--bundle", missing, id)
	empty := t.TempDir()
	e.fails([]string{id, "config.json"}, "create", "--bundle", empty, id)
}

// TestInvalidConfig checks that a bad config.json is refused with an
// error that names the JSON field, and leaves nothing behind.
func TestInvalidConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		name  string
		json  string // the whole config.json, when set
		edit  func(*specs.Spec)
		field string
	}{
		{name: "args not strings", json: `{"ociVersion": "1.0.2", "process": {"args": 5, "cwd": "/"}, "root": {"path": "rootfs"}}`, field: "process.args"},
		{name: "broken json", json: `{"ociVersion": "1.0.2",`, field: "invalid JSON"},
		{name: "unknown namespace", edit: func(s *specs.Spec) {
			// The first five: pid, network, ipc, uts, mount.
			s.Linux.Namespaces = append(s.Linux.Namespaces[:5], specs.LinuxNamespace{Type: "foo"})
		}, field: "linux.namespaces[5].type"},
		{name: "empty args", edit: func(s *specs.Spec) { s.Process.Args = nil }, field: "process.args"},
		{name: "relative cwd", edit: func(s *specs.Spec) { s.Process.Cwd = "tmp" }, field: "process.cwd"},
		{name: "bad rlimit", edit: func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_BOGUS"}}
		}, field: "process.rlimits[0].type"},
		{name: "no process", edit: func(s *specs.Spec) { s.Process = nil }, field: "process"},
		{name: "memory policy mode", edit: func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: "INTERLEAVE", Nodes: "0"}
		}, field: `linux.memoryPolicy.mode: invalid memory policy mode "INTERLEAVE"`},
	} {
		id := e.ID()
		bundle := e.Bundle(id, []string{"true"})
		if tc.json != "" {
			if err := os.WriteFile(filepath.Join(bundle, "config.json"), []byte(tc.json), 0o644); err != nil {
				t.Fatal(err)
			}
		} else {
			itest.EditSpec(e.T, bundle, tc.edit)
		}
		stderr := e.fails([]string{id, tc.field}, "create", "--bundle", bundle, id)
		if !strings.Contains(stderr, filepath.Join(bundle, "config.json")) {
			t.Errorf("%s: the error does not name the file: %s", tc.name, stderr)
		}
	}
}

func TestConsoleSocketNotASocket(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	bundle := e.Bundle(id, []string{"true"}, func(s *specs.Spec) { s.Process.Terminal = true })
	notSock := filepath.Join(t.TempDir(), "regular-file")
	os.WriteFile(notSock, nil, 0o644)
	e.fails([]string{id, notSock, "not a unix socket"}, "create", "--console-socket", notSock, "--bundle", bundle, id)
	missing := filepath.Join(t.TempDir(), "missing.sock")
	e.fails([]string{id, missing}, "create", "--console-socket", missing, "--bundle", bundle, id)
}

func TestTerminalRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	tty := e.Bundle(id, []string{"true"}, func(s *specs.Spec) { s.Process.Terminal = true })
	e.fails([]string{id, "console-socket"}, "create", "--bundle", tty, id)
	e.fails([]string{id, "console-socket"}, "run", "--detach", "--bundle", tty, id)
	sock := itest.ListenUnix(t)
	noTTY := e.Bundle(id, []string{"true"})
	e.fails([]string{id, "console socket"}, "create", "--console-socket", sock.Addr().String(), "--bundle", noTTY, id)
	e.fails([]string{id, "console socket"}, "run", "--console-socket", sock.Addr().String(), "--bundle", tty, id)
}

func TestUnknownContainer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, args := range [][]string{
		{"state", "no-such"},
		{"start", "no-such"},
		{"kill", "no-such"},
		{"exec", "no-such", "true"},
		{"ps", "no-such"},
		{"pause", "no-such"},
		{"resume", "no-such"},
		{"events", "--stats", "no-such"},
		{"update", "--memory", "1m", "no-such"},
	} {
		e.fails([]string{`"no-such"`, "does not exist"}, args...)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fails([]string{"requires"}, "state")
	e.fails([]string{"unexpected"}, "state", "a", "b")
	e.fails([]string{"unknown command"}, "nosuchcommand")
	e.fails([]string{"unknown flag"}, "list", "--nosuchflag")
	e.fails([]string{"--log-format"}, "--log-format", "xml", "list")
	e.fails([]string{"--rootless"}, "--rootless", "maybe", "list")
	e.fails([]string{"--format"}, "list", "--format", "yaml")
}

// TestJSONLog checks the error entry engines read from --log: containerd's
// shim shows the msg of the last "level":"error" line.
func TestJSONLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	log := filepath.Join(t.TempDir(), "log.json")
	stderr := e.fails([]string{"no-such"}, "--log", log, "--log-format", "json", "state", "no-such")
	if strings.HasPrefix(stderr, "{") {
		t.Errorf("stderr holds JSON while the log is a file: %q", stderr)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var entry map[string]string
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &entry); err != nil {
		t.Fatalf("log line %q: %v", lines[len(lines)-1], err)
	}
	if entry["level"] != "error" || !strings.Contains(entry["msg"], `"no-such"`) || len(entry) != 3 {
		t.Errorf("log entry %v", entry)
	}
	if _, err := time.Parse(time.RFC3339, entry["time"]); err != nil {
		t.Errorf("log time: %v", err)
	}
	if !strings.HasPrefix(lines[len(lines)-1], `{"level":"error","msg":`) {
		t.Errorf("keys are not in logrus's order: %s", lines[len(lines)-1])
	}

	// Text, runc's single-dash spelling of the flags.
	textLog := filepath.Join(t.TempDir(), "log.txt")
	e.fails([]string{"no-such"}, "-log", textLog, "-log-format=text", "state", "no-such")
	b, _ = os.ReadFile(textLog)
	if !strings.HasPrefix(string(b), `time="`) || !strings.Contains(string(b), ` level=error msg="container \"no-such\"`) {
		t.Errorf("text log: %q", b)
	}
}

// TestSingleDashFlags accepts runc's urfave/cli spellings.
func TestSingleDashFlags(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	bundle := e.Bundle(id, []string{"sleep", "100"})
	pidFile := filepath.Join(t.TempDir(), "pid")
	r := e.RunCmd(e.commandNoRoot("-root", e.Root, "create", "-bundle", bundle, "-pid-file", pidFile, id))
	if r.Code != 0 {
		t.Fatalf("create: exit %d: %s", r.Code, r.Stderr)
	}
	if _, err := os.Stat(pidFile); err != nil {
		t.Errorf("pid file: %v", err)
	}
	e.Must("delete", "-force", id)
}

// TestExecErrorPrintedOnce (issue 18): a program that execve(2) refuses
// after start (here a script whose interpreter is missing, which the
// path lookup cannot see) was reported twice, by init on its stderr
// ("init: exec ...") and by the CLI from the exec fifo. Once now, in
// runc's words: "exec /mnt/run.sh: no such file or directory".
func TestExecErrorPrintedOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.ID()
	script := filepath.Join(t.TempDir(), "run.sh")
	if err := os.WriteFile(script, []byte("#!/no/such/interpreter\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	bundle := e.Bundle(id, []string{"/mnt/run.sh"}, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/mnt", Type: "tmpfs", Source: "tmpfs"},
			specs.Mount{Destination: "/mnt/run.sh", Type: "bind", Source: script, Options: []string{"bind"}})
	})
	defer e.Corral("delete", "--force", id)
	const want = "exec /mnt/run.sh: no such file or directory"
	stderr := e.fails([]string{want}, "run", "--bundle", bundle, id)
	if n := strings.Count(stderr, "no such file or directory"); n != 1 {
		t.Errorf("the exec error is printed %d times, want once:\n%s", n, stderr)
	}
}
