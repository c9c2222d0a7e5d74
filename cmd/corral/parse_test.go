package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/specconv"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "-1", want: -1},
		{in: "0", want: 0},
		{in: "4096", want: 4096},
		{in: "64m", want: 64 << 20},
		{in: "64M", want: 64 << 20},
		{in: "1g", want: 1 << 30},
		{in: "1GiB", want: 1 << 30},
		{in: "1.5k", want: 1536},
		{in: "2kb", want: 2048},
		{in: "lots", bad: true},
		{in: "", bad: true},
		{in: "-2", bad: true},
		{in: "99999999p", bad: true},
	} {
		got, err := parseSize(tc.in)
		if tc.bad != (err != nil) || (!tc.bad && got != tc.want) {
			t.Errorf("parseSize(%q) = %d, %v", tc.in, got, err)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"1", "64m", "-1", "1.5GiB", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if v, err := parseSize(s); err == nil && v < -1 {
			t.Fatalf("parseSize(%q) = %d", s, v)
		}
	})
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]unix.Signal{
		"KILL": unix.SIGKILL, "SIGKILL": unix.SIGKILL, "kill": unix.SIGKILL,
		"9": unix.SIGKILL, "TERM": unix.SIGTERM, "usr1": unix.SIGUSR1, "34": unix.Signal(34),
		// 0 checks that the container's init is alive, as kill(2) does.
		"0": 0,
	} {
		if got, err := parseSignal(in); err != nil || got != want {
			t.Errorf("parseSignal(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "-1", "65", "NOPE", "SIG"} {
		if _, err := parseSignal(in); err == nil {
			t.Errorf("parseSignal(%q) succeeded", in)
		}
	}
}

func TestParseUser(t *testing.T) {
	if uid, gid, err := parseUser("1000:100"); err != nil || uid != 1000 || gid == nil || *gid != 100 {
		t.Errorf("1000:100: %d %v %v", uid, gid, err)
	}
	if uid, gid, err := parseUser("7"); err != nil || uid != 7 || gid != nil {
		t.Errorf("7: %d %v %v", uid, gid, err)
	}
	for _, in := range []string{"", "bob", "1:", ":1", "-1", "4294967296"} {
		if _, _, err := parseUser(in); err == nil {
			t.Errorf("parseUser(%q) succeeded", in)
		}
	}
}

func TestDedupEnv(t *testing.T) {
	got := dedupEnv([]string{"PATH=/a", "A=1", "PATH=/b", "B", "A=2"})
	if want := []string{"PATH=/b", "A=2", "B"}; !slices.Equal(got, want) {
		t.Errorf("dedupEnv = %q, want %q", got, want)
	}
}

func TestSubCgroupPaths(t *testing.T) {
	got, err := subCgroupPaths([]string{"sub", "cpu,memory:other"})
	if err != nil || got[""] != "sub" || got["cpu"] != "other" || got["memory"] != "other" {
		t.Errorf("subCgroupPaths = %v, %v", got, err)
	}
	for _, bad := range [][]string{{"cpu:"}, {"a", "b"}} {
		if _, err := subCgroupPaths(bad); err == nil {
			t.Errorf("subCgroupPaths(%q) succeeded", bad)
		}
	}
}

func TestCheckTerminal(t *testing.T) {
	for _, tc := range []struct {
		detach, terminal bool
		socket           string
		ok               bool
	}{
		{false, false, "", true},
		{false, true, "", true},
		{true, false, "", true},
		{true, true, "/s", true},
		{true, true, "", false},
		{true, false, "/s", false},
		{false, true, "/s", false},
	} {
		if err := checkTerminal(tc.detach, tc.terminal, tc.socket); (err == nil) != tc.ok {
			t.Errorf("checkTerminal(%v, %v, %q) = %v", tc.detach, tc.terminal, tc.socket, err)
		}
	}
}

// TestLogLines checks the two formats against what logrus writes.
func TestLogLines(t *testing.T) {
	var buf bytes.Buffer
	h := &logHandler{mu: new(sync.Mutex), w: &buf, json: true, level: slog.LevelInfo}
	log := slog.New(h)
	log.Debug("hidden")
	log.Error("container \"x\" failed", "error", errors.New("boom"), "msg", "clash")
	log.Warn("careful")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines: %q", lines)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatal(err)
	}
	if m["level"] != "error" || m["msg"] != `container "x" failed` || m["error"] != "boom" || m["fields.msg"] != "clash" {
		t.Errorf("entry %v", m)
	}
	if _, err := time.Parse(time.RFC3339, m["time"]); err != nil {
		t.Error(err)
	}
	if !strings.HasPrefix(lines[1], `{"level":"warning","msg":"careful","time":"`) {
		t.Errorf("warning line %s", lines[1])
	}

	buf.Reset()
	h.json = false
	slog.New(h).With("id", "c1").Info("started", "pid", 42, "path", "/a b")
	line := buf.String()
	if !strings.HasPrefix(line, `time="`) || !strings.HasSuffix(line, ` level=info msg=started id=c1 pid=42 path="/a b"`+"\n") {
		t.Errorf("text line %q", line)
	}
}

// withID names the container only where the library's error does not.
func TestWithID(t *testing.T) {
	lib := &libcontainer.ContainerError{Op: "signal", ID: "web", Err: libcontainer.ErrStopped}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("boom"), `kill container "web": boom`},
		{lib, `signal container "web": container is stopped`},
		{fmt.Errorf("wrapped: %w", lib), `wrapped: signal container "web": container is stopped`},
		// Another container's error is not this one's name.
		{&libcontainer.ContainerError{Op: "signal", ID: "db", Err: libcontainer.ErrStopped}, `kill container "web": signal container "db": container is stopped`},
	} {
		err := withID("kill", "web", tc.err)
		if got := fmt.Sprint(err); tc.err == nil && err != nil || tc.err != nil && got != tc.want {
			t.Errorf("withID(%v) = %q, want %q", tc.err, got, tc.want)
		}
		if tc.err != nil && !errors.Is(err, tc.err) {
			t.Errorf("withID(%v) lost its cause", tc.err)
		}
	}
}

// exec's process is its own object: the field paths of its errors drop
// the "process." of config.json's.
func TestConvertProcessFieldPath(t *testing.T) {
	bad := -1001
	_, err := convertProcess(&specs.Process{Args: []string{"sh"}, Cwd: "/", OOMScoreAdj: &bad})
	var fe *specconv.FieldError
	if !errors.As(err, &fe) || fe.Field != "oomScoreAdj" {
		t.Fatalf("convertProcess: %v, want a field error of oomScoreAdj", err)
	}
	if want := "oomScoreAdj: -1001 is outside [-1000, 1000]"; err.Error() != want {
		t.Errorf("convertProcess: %q, want %q", err, want)
	}
}
