package libcontainer

import (
	"reflect"
	"testing"

	devices "github.com/opencontainers/cgroups/devices/config"

	"github.com/corral-oci/corral/libcontainer/configs"
)

func TestParseNetDev(t *testing.T) {
	const netDev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1234      12    0    0    0     0          0         0     1234      12    0    0    0     0       0          0
  eth0: 9876543   54321    1    2    0     0          0         7  1234567    4321    3    4    0     0       0          0
 short: 1 2 3
`
	want := []*NetworkInterface{
		{Name: "lo", RxBytes: 1234, RxPackets: 12, TxBytes: 1234, TxPackets: 12},
		{Name: "eth0", RxBytes: 9876543, RxPackets: 54321, RxErrors: 1, RxDropped: 2, TxBytes: 1234567, TxPackets: 4321, TxErrors: 3, TxDropped: 4},
	}
	if got := parseNetDev([]byte(netDev)); !reflect.DeepEqual(got, want) {
		t.Errorf("parseNetDev:\n%+v\nwant\n%+v", got, want)
	}
	if got := parseNetDev(nil); got != nil {
		t.Errorf("parseNetDev(nil) = %v", got)
	}
}

// FuzzParseNetDev holds the parser to never panic on what a container's
// network namespace might show.
func FuzzParseNetDev(f *testing.F) {
	f.Add([]byte("Inter-|\n face |\n lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, ni := range parseNetDev(b) {
			if ni == nil {
				t.Fatal("nil interface")
			}
		}
	})
}

// A live container takes new resources, and nothing else.
func TestOnlyResourcesChanged(t *testing.T) {
	base := func() *configs.Config {
		return &configs.Config{
			Rootfs:   "/rootfs",
			Hostname: "box",
			Cgroups:  &configs.Cgroup{Path: "/c", Resources: &configs.Resources{Memory: 1 << 20}},
		}
	}
	for _, tc := range []struct {
		name   string
		change func(*configs.Config)
		ok     bool
	}{
		{"nothing", func(*configs.Config) {}, true},
		{"resources", func(c *configs.Config) {
			c.Cgroups.Resources = &configs.Resources{Memory: 2 << 20, PidsLimit: ptrTo(int64(5))}
		}, true},
		{"resources dropped", func(c *configs.Config) { c.Cgroups.Resources = nil }, true},
		{"hostname", func(c *configs.Config) { c.Hostname = "other" }, false},
		{"cgroup path", func(c *configs.Config) { c.Cgroups.Path = "/d" }, false},
		{"cgroup lost", func(c *configs.Config) { c.Cgroups = nil }, false},
		{"mounts", func(c *configs.Config) { c.Mounts = []*configs.Mount{{Destination: "/x"}} }, false},
		// Device rules are written at the start only (see Set).
		{"device rules", func(c *configs.Config) {
			c.Cgroups.Resources.Devices = []*devices.Rule{{Type: devices.CharDevice, Major: 10, Minor: 229, Permissions: "rw", Allow: true}}
		}, false},
	} {
		old, updated := base(), base()
		tc.change(updated)
		if err := onlyResourcesChanged(old, updated); tc.ok != (err == nil) {
			t.Errorf("%s: %v, want ok %v", tc.name, err, tc.ok)
		}
		if old.Cgroups.Resources == nil || old.Cgroups.Resources.Memory != 1<<20 {
			t.Errorf("%s: the old config's resources changed", tc.name)
		}
	}
	// Gaining a cgroup is refused too.
	noCgroup := base()
	noCgroup.Cgroups = nil
	if err := onlyResourcesChanged(noCgroup, base()); err == nil {
		t.Error("gaining a cgroup: no error")
	}
}
