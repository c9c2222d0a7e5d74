package cli

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// hostDevice is a veth of the host for a test to move: the dummy module
// is not available everywhere, veth is.
type hostDevice struct {
	name, peer string
	mac        string
	mtu        int
	// global addresses move into the container; host ones stay behind.
	global, host []string
}

// newHostDevice makes a veth pair with an address of each scope, an MTU
// and a MAC address of its own, up, and removes it when the test ends
// if it is still on the host.
func newHostDevice(t *testing.T) *hostDevice {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	suffix := hex.EncodeToString(b)
	d := &hostDevice{
		name: "cnd" + suffix, peer: "cnp" + suffix,
		mac: "02:" + suffix[0:2] + ":" + suffix[2:4] + ":" + suffix[4:6] + ":" + suffix[6:8] + ":01",
		mtu: 1400,
		// 127/8 gets host scope: it must not follow the device.
		// In the canonical form ip prints: "::83d", not "::083d".
		global: []string{"10.254." + strconv.Itoa(int(b[0])) + ".2/24", netip.MustParsePrefix("fd00:254::" + suffix[:4] + "/64").String()},
		host:   []string{"127.0.0." + strconv.Itoa(int(b[1])%250+2) + "/8"},
	}
	mac, _ := net.ParseMAC(d.mac)
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: d.name, MTU: d.mtu, HardwareAddr: mac}, PeerName: d.peer}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Fatalf("add veth %s: %v", d.name, err)
	}
	t.Cleanup(func() {
		if l, err := netlink.LinkByName(d.name); err == nil {
			netlink.LinkDel(l)
		}
	})
	link, err := netlink.LinkByName(d.name)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range append(append([]string(nil), d.global...), d.host...) {
		addr, err := netlink.ParseAddr(a)
		if err != nil {
			t.Fatal(err)
		}
		// No duplicate address detection: the address is usable at once.
		addr.Flags = unix.IFA_F_NODAD
		if slices.Contains(d.host, a) {
			addr.Scope = unix.RT_SCOPE_HOST
		}
		if err := netlink.AddrAdd(link, addr); err != nil {
			t.Fatalf("add %s to %s: %v", a, d.name, err)
		}
	}
	if err := netlink.LinkSetUp(link); err != nil {
		t.Fatal(err)
	}
	return d
}

// checkOnHost checks that the device is on the host as the test made it:
// name, MTU, MAC address, its addresses, up.
func (d *hostDevice) checkOnHost(t *testing.T) {
	t.Helper()
	d.checkIn(t, nil, d.name, true)
}

// checkIn checks the device under name in the namespace of h (the
// host's when nil); withHost says whether the host-scope address is
// expected there.
func (d *hostDevice) checkIn(t *testing.T, h *netlink.Handle, name string, withHost bool) {
	t.Helper()
	if h == nil {
		var err error
		if h, err = netlink.NewHandle(unix.NETLINK_ROUTE); err != nil {
			t.Fatal(err)
		}
		defer h.Close()
	}
	l, err := h.LinkByName(name)
	if err != nil {
		t.Errorf("device %s (host name %s): %v", name, d.name, err)
		return
	}
	a := l.Attrs()
	if a.MTU != d.mtu || a.HardwareAddr.String() != d.mac || a.Flags&net.FlagUp == 0 {
		t.Errorf("%s: mtu %d, mac %s, flags %v; want mtu %d, mac %s, up", name, a.MTU, a.HardwareAddr, a.Flags, d.mtu, d.mac)
	}
	addrs, err := h.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range addrs {
		got = append(got, x.IPNet.String())
	}
	for _, want := range d.global {
		if !containsAddr(got, want) {
			t.Errorf("%s: addresses %v lack %s", name, got, want)
		}
	}
	for _, a := range d.host {
		if containsAddr(got, a) != withHost {
			t.Errorf("%s: addresses %v: host-scope %s present %v, want %v", name, got, a, !withHost, withHost)
		}
	}
}

func containsAddr(addrs []string, want string) bool {
	ip, n, _ := net.ParseCIDR(want)
	n.IP = ip
	for _, a := range addrs {
		if a == n.String() {
			return true
		}
	}
	return false
}

// checkGone checks that neither end of the veth is on the host once the
// kernel has freed the namespace it was in (in the background).
func (d *hostDevice) checkGone(t *testing.T) {
	t.Helper()
	gone := func() bool {
		for _, n := range []string{d.name, d.peer} {
			if _, err := netlink.LinkByName(n); err == nil {
				return false
			}
		}
		return true
	}
	if !itest.WaitFor(10*time.Second, gone) {
		t.Errorf("%s or its peer %s is still on the host after 10s", d.name, d.peer)
	}
}

// withNetDevices moves devs (host name -> name in the container).
func withNetDevices(devs map[string]string) func(*specs.Spec) {
	return func(s *specs.Spec) {
		s.Linux.NetDevices = make(map[string]specs.LinuxNetDevice)
		for host, name := range devs {
			s.Linux.NetDevices[host] = specs.LinuxNetDevice{Name: name}
		}
	}
}

// withNetNS makes the container join the network namespace at path.
func withNetNS(path string) func(*specs.Spec) {
	return func(s *specs.Spec) {
		for i, ns := range s.Linux.Namespaces {
			if ns.Type == specs.NetworkNamespace {
				s.Linux.Namespaces[i].Path = path
			}
		}
	}
}

// newNetNS makes a network namespace outside any container, as a pod
// sandbox has, bound at a path, and removes it when the test ends.
func newNetNS(t *testing.T) (string, *netlink.Handle) {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	name := "corral-test-" + hex.EncodeToString(b)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	path := filepath.Join("/run/netns", name)
	ns, err := netns.GetFromPath(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return path, h
}

// TestNetDevices: a host device moves into the container's network
// namespace under its new name, with its MTU, MAC address and global
// addresses, up; its host-scope address stays behind. As the runtime
// spec requires (and runc does), the device is not moved back when the
// container is deleted: its namespace going away destroys a veth.
func TestNetDevices(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := newHostDevice(t)
	id := e.ID()
	bundle := e.Bundle(id, []string{"ip", "addr", "show", "dev", "ctr0"}, withNetDevices(map[string]string{d.name: "ctr0"}))
	out := e.Must("run", "--bundle", bundle, id)
	for _, want := range append([]string{"mtu 1400", "link/ether " + d.mac, ",UP"}, d.global...) {
		if !strings.Contains(out, want) {
			t.Errorf("in the container: %q lacks %q", out, want)
		}
	}
	for _, a := range d.host {
		if strings.Contains(out, strings.TrimSuffix(a, "/8")+"/") {
			t.Errorf("in the container: %q has the host-scope address %s", out, a)
		}
	}
	d.checkGone(t)
}

// TestNetDevicesJoinedNamespace: in a network namespace the container
// joins (a pod's), the devices stay after the container is deleted,
// under their names there; a "%d" template gets a name from the kernel.
func TestNetDevicesJoinedNamespace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := newHostDevice(t), newHostDevice(t)
	path, h := newNetNS(t)
	id := e.runDetached([]string{"sleep", "100"}, withNetNS(path), withNetDevices(map[string]string{a.name: "ctr0", b.name: "net%d"}))
	a.checkIn(t, h, "ctr0", false)
	b.checkIn(t, h, "net0", false)
	e.Must("delete", "--force", id)
	a.checkIn(t, h, "ctr0", false)
	b.checkIn(t, h, "net0", false)
	for _, n := range []string{a.name, b.name} {
		if _, err := netlink.LinkByName(n); err == nil {
			t.Errorf("%s is back on the host", n)
		}
	}
}

// TestNetDevicesFailedStart: a start that fails after the devices moved
// returns them to the host as they were: name, MTU, MAC, every address,
// up. So does one where a later device cannot move.
func TestNetDevicesFailedStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	d := newHostDevice(t)
	id := e.ID()
	bundle := e.Bundle(id, []string{"true"}, withNetDevices(map[string]string{d.name: "ctr0"}), func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/false"}}}
	})
	e.fails([]string{"createRuntime hook"}, "create", "--bundle", bundle, id)
	d.checkOnHost(t)

	// The namespace has a ctr1: the second device cannot take the name,
	// and the first goes back.
	path, h := newNetNS(t)
	if err := h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "ctr1"}, PeerName: "ctr1p"}); err != nil {
		t.Fatalf("make ctr1 in the namespace: %v", err)
	}
	first, second := newHostDevice(t), newHostDevice(t)
	if first.name > second.name {
		first, second = second, first // devices move in the order of their names
	}
	id = e.ID()
	bundle = e.Bundle(id, []string{"true"}, withNetNS(path), withNetDevices(map[string]string{first.name: "ctr0", second.name: "ctr1"}))
	e.fails([]string{`net_devices "` + second.name + `"`, `"ctr1"`}, "create", "--bundle", bundle, id)
	first.checkOnHost(t)
	second.checkOnHost(t)
	if _, err := h.LinkByName("ctr0"); err == nil {
		t.Error("ctr0 stayed in the namespace")
	}
}

// TestNetDevicesRefused: what cannot be moved is refused at create,
// naming the field and the device, with nothing left behind.
func TestNetDevicesRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := newHostDevice(t)
	noNetNS := func(s *specs.Spec) {
		var kept []specs.LinuxNamespace
		for _, ns := range s.Linux.Namespaces {
			if ns.Type != specs.NetworkNamespace {
				kept = append(kept, ns)
			}
		}
		s.Linux.Namespaces = kept
	}
	for _, tc := range []struct {
		name  string
		mods  []func(*specs.Spec)
		wants []string
	}{
		{"missing device", []func(*specs.Spec){withNetDevices(map[string]string{"cnd-nosuch": ""})},
			[]string{"net_devices", `"cnd-nosuch"`, "is not a network device of the host"}},
		{"no network namespace", []func(*specs.Spec){withNetDevices(map[string]string{d.name: ""}), noNetNS},
			[]string{"linux.netDevices", "without a network namespace"}},
		{"the host's network namespace", []func(*specs.Spec){withNetDevices(map[string]string{d.name: ""}), withNetNS("/proc/self/ns/net")},
			[]string{"net_devices", "network namespace other than the host's"}},
		{"slash", []func(*specs.Spec){withNetDevices(map[string]string{d.name: "a/b"})},
			[]string{`linux.netDevices["` + d.name + `"].name`, `"a/b"`}},
		{"dot dot", []func(*specs.Spec){withNetDevices(map[string]string{d.name: ".."})},
			[]string{`linux.netDevices["` + d.name + `"].name`, `".."`}},
		{"too long", []func(*specs.Spec){withNetDevices(map[string]string{d.name: "abcdefghijklmnop"})},
			[]string{`linux.netDevices["` + d.name + `"].name`, `"abcdefghijklmnop"`}},
		{"bad template", []func(*specs.Spec){withNetDevices(map[string]string{d.name: "eth%s"})},
			[]string{`net_devices "` + d.name + `".name`, `"eth%s"`}},
	} {
		id := e.ID()
		bundle := e.Bundle(id, []string{"true"}, tc.mods...)
		stderr := e.fails(tc.wants, "create", "--bundle", bundle, id)
		t.Logf("%s: %s", tc.name, strings.TrimSpace(stderr))
		if _, err := os.Stat(filepath.Join(e.Root, id)); err == nil {
			t.Errorf("%s: the container was made", tc.name)
		}
	}
	// Restore would need the devices back in a namespace criu makes
	// empty.
	id := e.ID()
	bundle := e.Bundle(id, []string{"true"}, withNetDevices(map[string]string{d.name: "ctr0"}))
	e.fails([]string{"net_devices", "restoring"}, "restore", "--image-path", t.TempDir(), "--bundle", bundle, id)
	d.checkOnHost(t)
}

// TestNetDevicesPhysical: a physical device, one the kernel does not
// destroy with a namespace, moved into a container's own network
// namespace comes back to the host when the container is deleted and
// the namespace freed: under its name in the container, down, without its
// addresses. That is the kernel's doing, which the runtime spec counts on
// (and runc leaves alone); corral moves nothing back. The test takes a
// spare NIC named by CORRAL_TEST_SPARE_NIC: tests/vm/netdev.sh runs it in
// a VM that has one.
func TestNetDevicesPhysical(t *testing.T) {
	nic := os.Getenv("CORRAL_TEST_SPARE_NIC")
	if nic == "" {
		t.Skip("no spare physical NIC to move: set CORRAL_TEST_SPARE_NIC (tests/vm/netdev.sh gives a VM one)")
	}
	e := newEnv(t)
	link, err := netlink.LinkByName(nic)
	if err != nil {
		t.Fatalf("spare NIC %s: %v", nic, err)
	}
	if link.Type() != "device" {
		t.Fatalf("spare NIC %s is a %s, not a physical device", nic, link.Type())
	}
	mac := link.Attrs().HardwareAddr.String()
	const inside = "ctr0"
	t.Cleanup(func() {
		// Give the NIC its name back for whatever runs next.
		if l, err := netlink.LinkByName(inside); err == nil && l.Attrs().HardwareAddr.String() == mac {
			netlink.LinkSetDown(l)
			netlink.LinkSetName(l, nic)
		}
	})
	addr, _ := netlink.ParseAddr("192.0.2.7/24")
	addr.Flags = unix.IFA_F_NODAD
	if err := netlink.AddrAdd(link, addr); err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		t.Fatal(err)
	}
	id := e.runDetached([]string{"sleep", "100"}, withNetDevices(map[string]string{nic: inside}))
	out := e.Must("exec", id, "ip", "addr", "show", "dev", inside)
	for _, want := range []string{"link/ether " + mac, "192.0.2.7/24", ",UP"} {
		if !strings.Contains(out, want) {
			t.Errorf("in the container: %q lacks %q", out, want)
		}
	}
	if _, err := netlink.LinkByName(nic); err == nil {
		t.Errorf("%s is still on the host while the container runs", nic)
	}
	e.Must("delete", "--force", id)
	var back netlink.Link
	if !itest.WaitFor(10*time.Second, func() bool {
		back, err = netlink.LinkByName(inside)
		return err == nil
	}) {
		t.Fatalf("%s did not come back to the host as %s within 10s: %v", nic, inside, err)
	}
	a := back.Attrs()
	if a.HardwareAddr.String() != mac || a.Flags&net.FlagUp != 0 {
		t.Errorf("back on the host: %s mac %s, flags %v; want mac %s, down", inside, a.HardwareAddr, a.Flags, mac)
	}
	if addrs, err := netlink.AddrList(back, netlink.FAMILY_V4); err != nil || len(addrs) != 0 {
		t.Errorf("back on the host: IPv4 addresses %v (%v), want none", addrs, err)
	}
	t.Logf("%s (%s) came back to the host as %s, down, without addresses", nic, mac, inside)
}
