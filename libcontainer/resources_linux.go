package libcontainer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/opencontainers/cgroups"

	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/configs/validate"
	"github.com/corral-oci/corral/libcontainer/intelrdt"
	"github.com/corral-oci/corral/libcontainer/internal/procfs"
)

// Pause freezes every process of the container.
func (c *Container) Pause() error {
	return c.freeze(cgroups.Frozen)
}

// Resume thaws a paused container.
func (c *Container) Resume() error {
	return c.freeze(cgroups.Thawed)
}

func (c *Container) freeze(want cgroups.FreezerState) error {
	op := "pause"
	if want == cgroups.Thawed {
		op = "resume"
	}
	st, status, unlock, err := c.lockedStatus()
	if err != nil {
		return err
	}
	defer unlock()
	switch {
	case want == cgroups.Frozen && status == Paused:
		return opError(op, c.id, ErrPaused)
	case want == cgroups.Frozen && status == Stopped:
		return opError(op, c.id, ErrNotRunning)
	case want == cgroups.Thawed && status != Paused:
		if status == Stopped && hasCgroup(st) && cgroupFrozen(st.CgroupPaths) {
			// Frozen when init died (a pause met init exiting): what
			// is left in it, an exec's setup, would hang its exec.
			if m, err := c.cgroupManager(st); err == nil {
				thaw(m)
			}
		}
		return opError(op, c.id, fmt.Errorf("%w (it is %s)", ErrNotPaused, status))
	}
	m, err := c.cgroupManager(st)
	if err != nil {
		return opError(op, c.id, err)
	}
	if want == cgroups.Thawed {
		err = thaw(m)
	} else {
		err = m.Freeze(want)
	}
	if err != nil {
		return opError(op, c.id, err)
	}
	return nil
}

// Stats returns the container's resource usage: its cgroup's figures and
// the counters of the interfaces in its network namespace.
func (c *Container) Stats() (*Stats, error) {
	st, unlock, err := c.lockedState()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if !initAlive(st) {
		return nil, opError("stats of", c.id, ErrNotRunning)
	}
	stats := &Stats{}
	if st.Config.Cgroups != nil {
		m, err := c.cgroupManager(st)
		if err != nil {
			return nil, err
		}
		if stats.CgroupStats, err = m.GetStats(); err != nil {
			return nil, opError("stats of", c.id, err)
		}
	}
	if st.Config.Namespaces.IsPrivate(configs.NEWNET) {
		b, err := procfs.ReadPid(st.InitProcessPid, "net/dev")
		if err != nil {
			return nil, opError("stats of", c.id, fmt.Errorf("network: %w", err))
		}
		stats.Interfaces = parseNetDev(b)
	}
	if st.Config.IntelRdt != nil && st.IntelRdtPath != "" {
		if stats.IntelRdt, err = intelrdt.GetStats(st.Config.IntelRdt, c.id, st.IntelRdtPath); err != nil {
			return nil, opError("stats of", c.id, err)
		}
	}
	return stats, nil
}

// parseNetDev parses /proc/<pid>/net/dev, the counters of the interfaces
// of pid's network namespace.
func parseNetDev(b []byte) []*NetworkInterface {
	var out []*NetworkInterface
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue // the two header lines
		}
		f := strings.Fields(rest)
		if len(f) < 16 {
			continue
		}
		n := func(i int) uint64 { v, _ := strconv.ParseUint(f[i], 10, 64); return v }
		out = append(out, &NetworkInterface{
			Name:    strings.TrimSpace(name),
			RxBytes: n(0), RxPackets: n(1), RxErrors: n(2), RxDropped: n(3),
			TxBytes: n(8), TxPackets: n(9), TxErrors: n(10), TxDropped: n(11),
		})
	}
	return out
}

// Set updates the resources of the container's cgroup and saves config as
// its new configuration. Only resources can change on a live container,
// and of them not the device rules: they are written at the start only,
// so that devices granted in the cgroup since (by a device plugin, such as
// NVIDIA's) stay granted, as with runc.
func (c *Container) Set(config configs.Config) error {
	if err := validate.Validate(&config); err != nil {
		return opError("update", c.id, err)
	}
	st, unlock, err := c.lockedState()
	if err != nil {
		return err
	}
	defer unlock()
	if err := onlyResourcesChanged(&st.Config, &config); err != nil {
		return opError("update", c.id, err)
	}
	status, err := c.status(st)
	if err != nil {
		return err
	}
	if status != Stopped && config.Cgroups != nil {
		m, err := c.cgroupManager(st)
		if err != nil {
			return err
		}
		res := *config.Cgroups.Resources
		res.SkipDevices = true
		if err := setResources(m, &res); err != nil {
			return opError("update", c.id, err)
		}
	}
	if status != Stopped && config.IntelRdt != nil && st.IntelRdtPath != "" {
		rdt, err := intelrdt.Existing(config.IntelRdt, c.id, st.IntelRdtPath)
		if err != nil {
			return opError("update", c.id, fmt.Errorf("intel_rdt: %w", err))
		}
		if err := rdt.Set(config.IntelRdt); err != nil {
			return opError("update", c.id, err)
		}
	}
	st.Config = config
	return c.saveState(st)
}

// onlyResourcesChanged refuses a new config that differs from the old one
// in anything but the cgroup's resources: nothing else can be applied to
// running processes.
func onlyResourcesChanged(old, updated *configs.Config) error {
	if (old.Cgroups == nil) != (updated.Cgroups == nil) {
		return errors.New("cgroups: a container cannot gain or lose its cgroup")
	}
	if (old.IntelRdt == nil) != (updated.IntelRdt == nil) {
		// runc moves init alone into a new group: the processes it
		// forked before would stay out, unlimited.
		return errors.New("intel_rdt: a container cannot gain or lose its resctrl group; give linux.intelRdt at create")
	}
	strip := func(c *configs.Config) ([]byte, error) {
		cp := *c
		if cp.IntelRdt != nil {
			// The allocation can change (update --l3-cache-schema,
			// --mem-bw-schema); the group cannot.
			rdt := *cp.IntelRdt
			rdt.L3CacheSchema, rdt.MemBwSchema = "", ""
			cp.IntelRdt = &rdt
		}
		if cp.Cgroups != nil {
			cg := *cp.Cgroups
			cg.Resources = nil
			if r := c.Cgroups.Resources; r != nil && len(r.Devices) > 0 {
				// The device rules stay: see Set.
				cg.Resources = &configs.Resources{Devices: r.Devices}
			}
			cp.Cgroups = &cg
		}
		return json.Marshal(&cp)
	}
	a, err := strip(old)
	if err != nil {
		return err
	}
	b, err := strip(updated)
	if err != nil {
		return err
	}
	if !bytes.Equal(a, b) {
		return errors.New("only cgroups.resources, but for its device rules, can change on a running container")
	}
	return nil
}
