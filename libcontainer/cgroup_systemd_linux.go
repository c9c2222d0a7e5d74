package libcontainer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	systemdDbus "github.com/coreos/go-systemd/v22/dbus"
	dbus "github.com/godbus/dbus/v5"
	"github.com/opencontainers/cgroups/systemd"

	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/configs/validate"
)

// prepareScope arranges for systemd to make the container's scope around
// the bootstrap child. systemd refuses a scope without processes, and
// moves the ones it is given itself, so nothing can be born in the
// scope: the child is started in the runtime's cgroup, and the scope is
// made with its pid while the bootstrap still waits for its message,
// before it joins or makes any namespace. Everything it forks (init, in
// a new pid namespace) is born in the scope.
func (cg *cgroup) prepareScope(ch *child) {
	ch.placeChild = func(pid int) error {
		if err := cg.m.Apply(pid); err != nil {
			return fmt.Errorf("cgroups: systemd: make the container's unit around pid %d: %w", pid, err)
		}
		return cg.set()
	}
}

// sliceCheckTimeout bounds the question to systemd about a slice.
const sliceCheckTimeout = 10 * time.Second

// checkSystemdSlice refuses a systemd cgroup whose parent slice does not
// exist: systemd would make an empty slice of any name on the spot (a
// typo's own slice, outside the limits the caller meant), so a slice must
// be active (its cgroup exists) or defined (a unit file or a transient
// unit of that name). The defaults, system.slice and user.slice, always
// are.
func checkSystemdSlice(cg *configs.Cgroup) error {
	if cg == nil || !cg.Systemd {
		return nil
	}
	slice := cg.Parent
	if slice == "" || slice == "-.slice" || slice == "system.slice" || slice == "user.slice" {
		return nil
	}
	rel, err := systemd.ExpandSlice(slice)
	if err != nil {
		return &validate.Error{Field: "cgroups.parent", Value: slice, Reason: "is not a systemd slice name", Err: err}
	}
	if !cg.Rootless {
		// An active slice has a cgroup: the common case needs no bus.
		for _, root := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd"} {
			if _, err := os.Stat(filepath.Join(root, rel)); err == nil {
				return nil
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), sliceCheckTimeout)
	defer cancel()
	conn, err := systemdConn(ctx, cg.Rootless)
	if err != nil {
		return fmt.Errorf("cgroups.parent %q: ask systemd about the slice: %w", slice, err)
	}
	defer conn.Close()
	props, err := conn.GetUnitPropertiesContext(ctx, slice)
	if err != nil {
		return fmt.Errorf("cgroups.parent %q: ask systemd about the slice: %w", slice, err)
	}
	active, _ := props["ActiveState"].(string)
	fragment, _ := props["FragmentPath"].(string)
	transient, _ := props["Transient"].(bool)
	if active == "active" || active == "activating" || fragment != "" || transient {
		return nil
	}
	return &validate.Error{Field: "cgroups.parent", Value: slice,
		Reason: "does not exist: systemd has no unit file for the slice and it is not active (it would make an empty slice of that name)"}
}

// systemdConn connects to the system's manager, or with rootless to the
// user's, through the session bus as the cgroups library finds it.
func systemdConn(ctx context.Context, rootless bool) (*systemdDbus.Conn, error) {
	if !rootless {
		conn, err := systemdDbus.NewWithContext(ctx)
		if err != nil {
			return nil, fmt.Errorf("connect to systemd: %w", err)
		}
		return conn, nil
	}
	addr, err := systemd.DetectUserDbusSessionBusAddress()
	if err != nil {
		return nil, err
	}
	uid, err := systemd.DetectUID()
	if err != nil {
		return nil, err
	}
	conn, err := systemdDbus.NewConnection(func() (*dbus.Conn, error) {
		c, err := dbus.Dial(addr, dbus.WithContext(ctx))
		if err != nil {
			return nil, err
		}
		if err := c.Auth([]dbus.Auth{dbus.AuthExternal(strconv.Itoa(uid))}); err != nil {
			c.Close()
			return nil, err
		}
		if err := c.Hello(); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	})
	if err != nil {
		return nil, fmt.Errorf("connect to the user's systemd at %s: %w", addr, err)
	}
	return conn, nil
}
