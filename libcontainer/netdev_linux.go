package libcontainer

// Host network devices moved into the container (config.NetDevices, the
// runtime spec's linux.netDevices).
//
// The runtime moves each device once init's network namespace exists and
// before init's setup goes on, as runc does before it sends init its
// config: prestart and createRuntime hooks see the device in place. The
// move and the rename are one netlink request: when the host name is
// taken in the container's namespace the kernel moves the device under
// its new name, where a move followed by a rename would fail. The kernel
// still moves first and renames after, so a rename that fails leaves the
// device in the container's namespace under its host name, and the failed
// start returns it. The kernel keeps a device's MTU and MAC address across
// namespaces and drops its addresses; the runtime adds back those that are
// permanent and of global scope (the spec's rule, and runc's) and brings
// the device up.
//
// Nothing moves a device back when its container is deleted: the runtime
// spec forbids it (the owner of the network namespace, often a pod
// sandbox that outlives the container, manages the device), and runc leaves
// it. When the namespace is freed the kernel returns physical devices to
// the initial namespace, under their names in the container (or "dev"
// and their index when the host has that name), and destroys virtual ones
// (veth, macvlan, dummy). TestNetDevices watches a veth go. A start that fails after the move is
// different: it returns the devices to the host, under their host names
// and with their host addresses, because a failed create leaves nothing
// behind.

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/configs/validate"
)

// netDevField names a device's entry in errors, as validate does.
func netDevField(host string) string { return fmt.Sprintf("net_devices %q", host) }

// checkNetDevicesOnHost refuses a config whose devices the host does not
// have, before anything of the container exists. It is Create's check,
// not validate's: once started, the container has the devices and the
// host does not, and an update validates its config again.
func checkNetDevicesOnHost(cfg *configs.Config) error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(cfg.NetDevices)) {
		if _, err := netlink.LinkByName(name); err != nil {
			reason := "cannot be looked up on the host"
			if isLinkNotFound(err) {
				reason = "is not a network device of the host"
			}
			errs = append(errs, &validate.Error{Field: "net_devices", Value: name, Reason: reason, Err: err})
		}
	}
	return errors.Join(errs...)
}

func isLinkNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf) || errors.Is(err, unix.ENODEV)
}

// checkRestoreNetDevices refuses to restore a container that moves
// devices into a network namespace of its own: criu makes that namespace
// anew and empty, and the devices went with the namespace the checkpoint
// ended (a veth destroyed, a physical device back on the host under its
// name in the container). A namespace joined by path kept its devices: the
// restored container finds them there.
func checkRestoreNetDevices(cfg *configs.Config) error {
	if len(cfg.NetDevices) > 0 && cfg.Namespaces.IsPrivate(configs.NEWNET) {
		return errors.New("net_devices: restoring a container that moves network devices into a network namespace of its own is not supported: " +
			"criu makes the namespace anew, and the devices did not survive the old one; join a network namespace by path to keep them")
	}
	return nil
}

// netDevices are the devices moved into one container's network
// namespace during its start.
type netDevices struct {
	host  *netlink.Handle // in the runtime's network namespace
	ctr   *netlink.Handle // in the container's
	ctrNS *os.File
	moved []movedDevice
}

// movedDevice is what returns a device to the host as it was.
type movedDevice struct {
	hostName string
	// index is the device's index in the container's namespace.
	index int
	// addrs are the permanent addresses it had on the host.
	addrs []netlink.Addr
	wasUp bool
}

// moveNetDevices moves cfg's devices into the network namespace of
// process pid, in the order of their host names. When one fails, those
// moved before it are back on the host. The caller ends the returned
// value with done; it is nil when there is nothing to move.
func moveNetDevices(cfg *configs.Config, pid int) (*netDevices, error) {
	if len(cfg.NetDevices) == 0 {
		return nil, nil
	}
	d, err := openNetDevices(pid)
	if err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.NetDevices)) {
		newName := name
		if dev := cfg.NetDevices[name]; dev != nil && dev.Name != "" {
			newName = dev.Name
		}
		if err := d.move(name, newName); err != nil {
			d.done(true)
			return nil, fmt.Errorf("%s: %w", netDevField(name), err)
		}
	}
	return d, nil
}

func openNetDevices(pid int) (_ *netDevices, retErr error) {
	ns, err := openNamespace("/proc/"+strconv.Itoa(pid)+"/ns/net", configs.NEWNET)
	if err != nil {
		return nil, fmt.Errorf("net_devices: %w", err)
	}
	defer func() {
		if retErr != nil {
			ns.Close()
		}
	}()
	host, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("net_devices: netlink socket: %w", err)
	}
	ctr, err := netlink.NewHandleAt(netns.NsHandle(ns.Fd()), unix.NETLINK_ROUTE)
	if err != nil {
		host.Close()
		return nil, fmt.Errorf("net_devices: netlink socket in the container's network namespace: %w", err)
	}
	return &netDevices{host: host, ctr: ctr, ctrNS: ns}, nil
}

// done releases d; when the start failed it first returns the devices to
// the host. It accepts a nil d.
func (d *netDevices) done(failed bool) {
	if d == nil {
		return
	}
	if failed {
		for i := len(d.moved) - 1; i >= 0; i-- {
			if err := d.giveBack(d.moved[i]); err != nil {
				slog.Warn("return a network device to the host after a failed start", "device", d.moved[i].hostName, "error", err)
			}
		}
	}
	d.moved = nil
	d.host.Close()
	d.ctr.Close()
	d.ctrNS.Close()
}

// move moves the host's device hostName into the container's namespace
// as newName, with its global addresses, and brings it up there.
func (d *netDevices) move(hostName, newName string) error {
	link, err := d.host.LinkByName(hostName)
	if err != nil {
		if isLinkNotFound(err) {
			return errors.New("no such network device on the host")
		}
		return fmt.Errorf("look it up on the host: %w", err)
	}
	index := link.Attrs().Index
	m := movedDevice{hostName: hostName, wasUp: link.Attrs().Flags&net.FlagUp != 0}
	if m.addrs, err = permanentAddrs(d.host, link); err != nil {
		return fmt.Errorf("list its addresses on the host: %w", err)
	}
	// A template ("eth%d") is resolved by the kernel: the device is then
	// found as the one that was not there before.
	var before []int
	if isNameTemplate(newName) {
		if before, err = linkIndexes(d.ctr); err != nil {
			return fmt.Errorf("list the devices of the container's network namespace: %w", err)
		}
	} else if _, err := d.ctr.LinkByName(newName); err == nil {
		return fmt.Errorf("the container's network namespace has a device named %q already", newName)
	}
	// The kernel renames only a device that is down. Down, it also
	// drops its IPv6 addresses (unless keep_addr_on_down): from here on,
	// a device that stays on the host gets them back.
	if m.wasUp {
		if err := d.host.LinkSetDown(link); err != nil {
			return fmt.Errorf("set it down on the host: %w", err)
		}
	}
	if err := changeNetNS(nil, index, newName, int(d.ctrNS.Fd())); err != nil {
		if _, lerr := d.host.LinkByIndex(index); !isLinkNotFound(lerr) {
			if rerr := d.restoreOnHost(link, m); rerr != nil {
				slog.Warn("restore a network device that could not move", "device", hostName, "error", rerr)
			}
		} else if l, ferr := d.ctr.LinkByName(hostName); ferr == nil {
			// Moved, then the rename failed (a name taken meanwhile).
			m.index = l.Attrs().Index
			d.moved = append(d.moved, m)
		}
		return fmt.Errorf("move it into the container's network namespace as %q: %w", newName, err)
	}
	moved, err := d.findMoved(newName, before)
	if err != nil {
		// Moved, but out of reach: the kernel returns or destroys it
		// with the namespace.
		return fmt.Errorf("find it in the container's network namespace as %q: %w", newName, err)
	}
	m.index = moved.Attrs().Index
	d.moved = append(d.moved, m)
	for _, a := range m.addrs {
		if a.Scope != unix.RT_SCOPE_UNIVERSE {
			continue
		}
		if err := d.ctr.AddrAdd(moved, sameAddr(a)); err != nil {
			return fmt.Errorf("add address %s in the container's network namespace: %w", a.IPNet, err)
		}
	}
	if err := d.ctr.LinkSetUp(moved); err != nil {
		return fmt.Errorf("bring it up in the container's network namespace: %w", err)
	}
	return nil
}

// findMoved finds the device just moved in as name, or, for a template,
// as the one device whose index was not among before.
func (d *netDevices) findMoved(name string, before []int) (netlink.Link, error) {
	if !isNameTemplate(name) {
		return d.ctr.LinkByName(name)
	}
	links, err := listRetry(d.ctr.LinkList)
	if err != nil {
		return nil, err
	}
	var found netlink.Link
	for _, l := range links {
		if slices.Contains(before, l.Attrs().Index) {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("both %q and %q appeared meanwhile", found.Attrs().Name, l.Attrs().Name)
		}
		found = l
	}
	if found == nil {
		return nil, errors.New("no new device appeared")
	}
	return found, nil
}

// giveBack moves a device from the container's namespace to the
// runtime's under its host name, and restores its addresses and state.
func (d *netDevices) giveBack(m movedDevice) error {
	link, err := d.ctr.LinkByIndex(m.index)
	if err != nil {
		return fmt.Errorf("find it in the container's network namespace: %w", err)
	}
	if err := d.ctr.LinkSetDown(link); err != nil {
		return fmt.Errorf("set it down: %w", err)
	}
	host, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return err
	}
	defer host.Close()
	sock, err := nl.GetNetlinkSocketAt(netns.NsHandle(d.ctrNS.Fd()), netns.None(), unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink socket in the container's network namespace: %w", err)
	}
	defer sock.Close()
	if err := changeNetNS(sock, m.index, m.hostName, int(host.Fd())); err != nil {
		return fmt.Errorf("move it back to the host: %w", err)
	}
	back, err := d.host.LinkByName(m.hostName)
	if err != nil {
		return fmt.Errorf("find it on the host: %w", err)
	}
	return d.restoreOnHost(back, m)
}

// restoreOnHost gives link, on the host, the addresses and state m
// recorded.
func (d *netDevices) restoreOnHost(link netlink.Link, m movedDevice) error {
	var errs []error
	for _, a := range m.addrs {
		// Some are still there (IPv4 ones on a device that stayed), the
		// kernel makes others itself (an IPv6 link-local address).
		if err := d.host.AddrAdd(link, sameAddr(a)); err != nil && !errors.Is(err, unix.EEXIST) {
			errs = append(errs, fmt.Errorf("add address %s: %w", a.IPNet, err))
		}
	}
	if m.wasUp {
		if err := d.host.LinkSetUp(link); err != nil {
			errs = append(errs, fmt.Errorf("bring it up: %w", err))
		}
	}
	return errors.Join(errs...)
}

// changeNetNS moves the device of index (in sock's namespace, the
// runtime's when sock is nil) into the namespace of nsFD as name: one
// request, so the kernel checks the name in the target namespace as part
// of the move.
func changeNetNS(sock *nl.NetlinkSocket, index int, name string, nsFD int) error {
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_ACK)
	if sock != nil {
		req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: {Socket: sock}}
	}
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Index = int32(index)
	req.AddData(msg)
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	req.AddData(nl.NewRtAttr(unix.IFLA_NET_NS_FD, nl.Uint32Attr(uint32(nsFD))))
	_, err := req.Execute(unix.NETLINK_ROUTE, 0)
	return err
}

// permanentAddrs lists the addresses of link that were set by hand
// rather than made by the kernel or an autoconfiguration with a
// lifetime: those a moved device keeps.
func permanentAddrs(h *netlink.Handle, link netlink.Link) ([]netlink.Addr, error) {
	addrs, err := listRetry(func() ([]netlink.Addr, error) { return h.AddrList(link, netlink.FAMILY_ALL) })
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(addrs, func(a netlink.Addr) bool { return a.Flags&unix.IFA_F_PERMANENT == 0 }), nil
}

// addrUserFlags are the address flags a user sets (ip address add ...
// nodad noprefixroute ...); the others are the kernel's state.
const addrUserFlags = unix.IFA_F_NODAD | unix.IFA_F_HOMEADDRESS | unix.IFA_F_MANAGETEMPADDR |
	unix.IFA_F_NOPREFIXROUTE | unix.IFA_F_MCAUTOJOIN

// sameAddr is a for AddrAdd: the address, its peer and broadcast
// address, scope and user flags, without the kernel's state.
func sameAddr(a netlink.Addr) *netlink.Addr {
	out := &netlink.Addr{IPNet: a.IPNet, Peer: a.Peer, Broadcast: a.Broadcast, Scope: a.Scope, Flags: a.Flags & addrUserFlags}
	if out.Broadcast == nil && a.IP.To4() != nil {
		// The library would compute one the address did not have.
		out.Broadcast = net.IPv4zero
	}
	return out
}

func linkIndexes(h *netlink.Handle) ([]int, error) {
	links, err := listRetry(h.LinkList)
	if err != nil {
		return nil, err
	}
	out := make([]int, 0, len(links))
	for _, l := range links {
		out = append(out, l.Attrs().Index)
	}
	return out, nil
}

// listRetry repeats a netlink dump that the kernel interrupted (the
// table changed meanwhile), whose answer may be incomplete.
func listRetry[T any](list func() ([]T, error)) ([]T, error) {
	var err error
	for range 5 {
		var out []T
		out, err = list()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return out, err
		}
	}
	return nil, err
}

// isNameTemplate reports whether name asks the kernel for a free name.
func isNameTemplate(name string) bool { return strings.Contains(name, "%d") }
