package libcontainer

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// Init gets the Config without the parts only the runtime uses, and
// everything else intact.
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
	s := &setup{Mode: modeInit, Config: cfg}
	if err := s.encodeConfig(); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"cgroups"`, `"seccomp"`} {
		if bytes.Contains(s.ConfigJSON, []byte(key)) {
			t.Errorf("init's config carries %s: %s", key, s.ConfigJSON)
		}
	}
	got := &setup{Mode: modeInit, ConfigJSON: s.ConfigJSON}
	if err := got.decodeConfig(); err != nil {
		t.Fatal(err)
	}
	want := *cfg
	want.Cgroups, want.Seccomp = nil, nil
	if !reflect.DeepEqual(got.Config, &want) {
		t.Errorf("decoded config\n%+v\nwant\n%+v", got.Config, &want)
	}
	// The runtime's Config is untouched.
	if cfg.Cgroups == nil || cfg.Seccomp == nil {
		t.Error("encoding dropped the runtime's cgroup or seccomp")
	}
}
