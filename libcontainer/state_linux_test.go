package libcontainer

import (
	"reflect"
	"testing"

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
