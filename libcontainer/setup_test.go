package libcontainer

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/internal/initsync"
)

// Init gets the Config without the parts only the runtime uses, and
// everything else intact, through the conversation's own encoding.
func TestInitConfigLeavesOutRuntimeParts(t *testing.T) {
	cfg := &configs.Config{
		Rootfs:   "/bundle/rootfs",
		Hostname: "box",
		Mounts: []*configs.Mount{
			{Source: "proc", Destination: "/proc", Device: "proc"},
		},
		Namespaces: configs.Namespaces{{Type: configs.NEWPID}, {Type: configs.NEWNS}},
		Cgroups: &configs.Cgroup{
			Path:      "/corral/box",
			Resources: &configs.Resources{CpuShares: 512},
		},
		Seccomp: &configs.Seccomp{DefaultAction: configs.Allow},
		Sysctl:  map[string]string{"kernel.domainname": "example"},
	}
	s := &setup{
		Mode:    modeInit,
		ID:      "box",
		Config:  cfg,
		Process: processSetup{Args: []string{"sh"}, Env: []string{"A=1"}},
		State:   &specs.State{ID: "box", Pid: 7, Annotations: map[string]string{"a": "b"}},
	}
	s.encodeConfig()
	var buf bytes.Buffer
	if err := initsync.Send(&buf, initsync.Config, s); err != nil {
		t.Fatal(err)
	}
	var got setup
	if err := initsync.Expect(&buf, initsync.Config, &got); err != nil {
		t.Fatal(err)
	}
	if got.Config != nil {
		t.Fatal("the runtime's own Config travelled")
	}
	if err := got.decodeConfig(); err != nil {
		t.Fatal(err)
	}
	want := *cfg
	want.Cgroups, want.Seccomp = nil, nil
	if !reflect.DeepEqual(got.Config, &want) {
		t.Errorf("decoded config\n%+v\nwant\n%+v", got.Config, &want)
	}
	if !reflect.DeepEqual(got.Process, s.Process) || !reflect.DeepEqual(got.State, s.State) || got.ID != "box" || got.Mode != modeInit {
		t.Errorf("decoded setup %+v, want %+v", got, s)
	}
	// The runtime's Config is untouched.
	if cfg.Cgroups == nil || cfg.Seccomp == nil {
		t.Error("encoding dropped the runtime's cgroup or seccomp")
	}
}
