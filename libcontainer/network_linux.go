package libcontainer

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// setupNetworks configures the interfaces of a new network namespace.
// Only the loopback is supported: bringing it up needs no netlink.
func setupNetworks(cfg *configs.Config) error {
	if !cfg.Namespaces.IsPrivate(configs.NEWNET) {
		return nil
	}
	for i, n := range cfg.Networks {
		if n.Type != "loopback" {
			return fmt.Errorf("networks[%d].type: %q is not supported (only loopback)", i, n.Type)
		}
		if err := linkUp("lo"); err != nil {
			return fmt.Errorf("networks[%d]: bring lo up: %w", i, err)
		}
	}
	return nil
}

func linkUp(name string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}
