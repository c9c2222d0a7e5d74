package libcontainer

import (
	"reflect"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// State hands out a copy: nothing a caller writes into it, however deep,
// changes what the container goes on with.
func TestStateIsACopy(t *testing.T) {
	cfg := &configs.Config{
		Rootfs:     t.TempDir(),
		Namespaces: configs.Namespaces{{Type: configs.NEWNS}, {Type: configs.NEWUTS}},
		Mounts:     []*configs.Mount{{Source: "proc", Destination: "/proc", Device: "proc"}},
		Labels:     []string{"bundle=/bundle"},
		Sysctl:     map[string]string{"kernel.domainname": "example"},
	}
	c, err := Create(t.TempDir(), "copy", cfg)
	if err != nil {
		t.Fatal(err)
	}
	want, err := c.State()
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		st, err := c.State()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(st, want) {
			t.Fatalf("State changed between two calls:\n%+v\n%+v", st, want)
		}
		st.ID = "other"
		st.InitProcessPid = 1
		st.Config.Rootfs = "/"
		st.Config.Mounts[0].Destination = "/sys"
		st.Config.Labels[0] = "bundle=/elsewhere"
		st.Config.Sysctl["kernel.domainname"] = "changed"
		st.CgroupPaths = map[string]string{"memory": "/"}
	}
	if got := c.Config(); got.Mounts[0].Destination != "/proc" || got.Sysctl["kernel.domainname"] != "example" {
		t.Errorf("the container's config changed through State: %+v", got)
	}
	if s, err := c.OCIState(); err != nil || s.ID != "copy" || s.Bundle != "/bundle" || s.Pid != 0 {
		t.Errorf("the container's state changed through State: %+v, %v", s, err)
	}
}

func TestStatusString(t *testing.T) {
	for s, want := range map[Status]string{Stopped: "stopped", Created: "created", Running: "running", Paused: "paused", Status(99): "stopped"} {
		if got := s.String(); got != want {
			t.Errorf("Status(%d).String() = %q, want %q", int(s), got, want)
		}
	}
}

// ociState is what hooks read on stdin and `corral state` prints: the
// bundle and annotations come from the labels, the pid only while init
// lives.
func TestOCIState(t *testing.T) {
	st := &State{
		ID:             "web",
		InitProcessPid: 42,
		Config: configs.Config{Labels: []string{
			"bundle=/srv/web", "org.example.key=a=b", "empty=", "no-equals",
		}},
	}
	for _, tc := range []struct {
		status Status
		pid    int
	}{{Created, 42}, {Running, 42}, {Paused, 42}, {Stopped, 0}} {
		s := ociState(st, tc.status)
		want := &specs.State{
			Version:     specs.Version,
			ID:          "web",
			Status:      specs.ContainerState(tc.status.String()),
			Pid:         tc.pid,
			Bundle:      "/srv/web",
			Annotations: map[string]string{"org.example.key": "a=b", "empty": ""},
		}
		if !reflect.DeepEqual(s, want) {
			t.Errorf("%s:\n%+v\nwant\n%+v", tc.status, s, want)
		}
	}
	// Without labels the annotations are an empty object, not null.
	if s := ociState(&State{ID: "x"}, Stopped); s.Annotations == nil || s.Bundle != "" {
		t.Errorf("without labels: %+v", s)
	}
}

func TestBundleOf(t *testing.T) {
	for _, tc := range []struct {
		labels []string
		want   string
	}{
		{nil, ""},
		{[]string{"a=b"}, ""},
		// The runtime appends its own after the config's annotations.
		{[]string{"a=b", "bundle=/x", "bundle=/y"}, "/y"},
		{[]string{"bundle="}, ""},
		{[]string{"bundles=/x"}, ""},
	} {
		if got := bundleOf(tc.labels); got != tc.want {
			t.Errorf("bundleOf(%q) = %q, want %q", tc.labels, got, tc.want)
		}
	}
}

// A created container's init is this binary run as "init" until it
// execs the container's program.
func TestRunsInit(t *testing.T) {
	for _, tc := range []struct {
		cmdline string
		want    bool
	}{
		{"/usr/bin/corral\x00init\x00--corral-bootstrap\x00", true},
		{"/proc/self/fd/5\x00init\x00--corral-bootstrap\x00", true},
		{"corral\x00init\x00--corral-bootstrap", true},
		{"\x00init\x00--corral-bootstrap\x00", true},
		// Another of the runtime's children, or a program of the
		// container that happens to take "init".
		{"/usr/bin/corral\x00init\x00", false},
		{"corral\x00init\x00--corral-criu-root\x00", false},
		{"corral\x00init\x00--corral-bootstrap\x00x\x00", false},
		{"sleep\x00100\x00", false},
		{"sh\x00", false},
		{"", false},
		{"init\x00", false},
		{"corral\x00initialize\x00", false},
	} {
		if got := runsInit([]byte(tc.cmdline)); got != tc.want {
			t.Errorf("runsInit(%q) = %v, want %v", tc.cmdline, got, tc.want)
		}
	}
}
