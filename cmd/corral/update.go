package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/intelrdt"
	"github.com/corral-oci/corral/libcontainer/specconv"
)

func newUpdateCommand(g *globals) *cobra.Command {
	var resources string
	cmd := &cobra.Command{
		Use:   "update [flags] <container-id>",
		Short: "update container resource constraints",
		Long: `Change the resource limits of a running container, from the flags or, with
--resources, from an OCI linux.resources JSON object in a file ("-" reads
stdin); the flags are then ignored. Only the values given change; lists
given per device or name (weightDevice, the throttles, hugepageLimits,
network priorities, rdma, unified) change the entries they name:

{
  "memory": {"limit": 0, "reservation": 0, "swap": 0, "swappiness": 0,
             "disableOOMKiller": false, "checkBeforeUpdate": false},
  "cpu": {"shares": 0, "quota": 0, "burst": 0, "period": 0, "idle": 0,
          "realtimeRuntime": 0, "realtimePeriod": 0, "cpus": "", "mems": ""},
  "blockIO": {"weight": 0, "leafWeight": 0, "weightDevice": [],
              "throttleReadBpsDevice": [], "throttleWriteBpsDevice": [],
              "throttleReadIOPSDevice": [], "throttleWriteIOPSDevice": []},
  "pids": {"limit": 0},
  "hugepageLimits": [], "network": {}, "rdma": {}, "unified": {}
}

"devices" is not applied, as with runc: the device rules stay those of
the container's start, and devices granted in its cgroup since (by a
device plugin) stay granted. Sizes take the suffixes k, m, g, t (powers
of 1024); -1 is unlimited. On cgroup v1, --memory -1 without --memory-swap
lifts the memory+swap limit too, which the kernel requires.`,
		Args: checkArgs(1, 1, "exactly one argument, the container id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadContainer(g, args[0])
			if err != nil {
				return err
			}
			return withID("update", args[0], updateContainer(c, cmd.Flags(), resources))
		},
	}
	f := cmd.Flags()
	f.StringVarP(&resources, "resources", "r", "", "path to the file containing the resources to update or '-' to read from the standard input")
	f.String("blkio-weight", "", "specifies per cgroup weight, range is from 10 to 1000")
	f.String("cpu-period", "", "CPU CFS period to be used for hardcapping (in usecs); 0 to use system default")
	f.String("cpu-quota", "", "CPU CFS hardcap limit (in usecs); allowed cpu time in a given period")
	f.String("cpu-burst", "", "CPU CFS burst limit (in usecs)")
	f.String("cpu-rt-period", "", "CPU realtime period to be used for hardcapping (in usecs); 0 to use system default")
	f.String("cpu-rt-runtime", "", "CPU realtime hardcap limit (in usecs); allowed cpu time in a given period")
	f.String("cpu-share", "", "CPU shares (relative weight vs. other containers)")
	f.String("cpu-idle", "", "set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE")
	f.String("cpu-shares", "", "alias of --cpu-share")
	f.MarkHidden("cpu-shares")
	f.String("cpuset-cpus", "", "CPU(s) to use")
	f.String("cpuset-mems", "", "memory node(s) to use")
	f.String("memory", "", "memory limit (in bytes)")
	f.String("memory-reservation", "", "memory reservation or soft_limit (in bytes)")
	f.String("memory-swap", "", "total memory usage (memory + swap); set '-1' to enable unlimited swap")
	f.String("pids-limit", "", "maximum number of pids allowed in the container")
	f.String("kernel-memory", "", "ignored: kernel memory limits are gone from the kernel")
	f.String("kernel-memory-tcp", "", "ignored: kernel memory limits are gone from the kernel")
	f.String("l3-cache-schema", "", "the string of Intel RDT/CAT L3 cache schema")
	f.String("mem-bw-schema", "", "the string of Intel RDT/MBA memory bandwidth schema")
	return cmd
}

func updateContainer(c *libcontainer.Container, flags *pflag.FlagSet, resources string) error {
	status, err := c.Status()
	if err != nil {
		return err
	}
	if status == libcontainer.Stopped {
		return errors.New("cannot update a stopped container")
	}
	var r *specs.LinuxResources
	if resources != "" {
		if r, err = readResources(resources); err != nil {
			return err
		}
	} else if r, err = resourcesFromFlags(flags); err != nil {
		return err
	}

	cfg := c.Config()
	if cfg.Cgroups == nil {
		return errors.New("the container has no cgroup to update")
	}
	// Config shares its cgroup with the container's; change a copy.
	cg := *cfg.Cgroups
	res := configs.Resources{}
	if cg.Resources != nil {
		res = *cg.Resources
	}
	if err := specconv.MergeResources(&res, r); err != nil {
		if resources != "" {
			return fmt.Errorf("--resources %s: %w", resources, err)
		}
		return err
	}
	cg.Resources = &res
	cfg.Cgroups = &cg

	l3, mb := flagString(flags, "l3-cache-schema"), flagString(flags, "mem-bw-schema")
	if l3 != "" || mb != "" {
		if _, err := intelrdt.Root(); err != nil {
			return fmt.Errorf("--l3-cache-schema, --mem-bw-schema: Intel RDT cannot be used: %w", err)
		}
		if cfg.IntelRdt == nil {
			// runc then moves init alone into a new group, leaving
			// out the processes it forked: refused instead.
			return errors.New("--l3-cache-schema, --mem-bw-schema: the container was created without linux.intelRdt, and cannot join a resctrl group now")
		}
		rdt := *cfg.IntelRdt
		if l3 != "" {
			rdt.L3CacheSchema = l3
		}
		if mb != "" {
			rdt.MemBwSchema = mb
		}
		cfg.IntelRdt = &rdt
	}
	return c.Set(cfg)
}

// readResources reads an OCI linux.resources object from path or stdin.
func readResources(path string) (*specs.LinuxResources, error) {
	var in io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("--resources: %w", err)
		}
		defer f.Close()
		in = f
	}
	var r specs.LinuxResources
	if err := json.NewDecoder(in).Decode(&r); err != nil {
		return nil, fmt.Errorf("--resources %s: %w", path, err)
	}
	return &r, nil
}

// resourcesFromFlags turns the flags given into the linux.resources they
// mean; unset flags stay nil and change nothing.
func resourcesFromFlags(flags *pflag.FlagSet) (*specs.LinuxResources, error) {
	r := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{},
		CPU:     &specs.LinuxCPU{},
		BlockIO: &specs.LinuxBlockIO{},
	}
	var err error
	size := func(name string) *int64 {
		s := flagString(flags, name)
		if s == "" || err != nil {
			return nil
		}
		var v int64
		if v, err = parseSize(s); err != nil {
			err = fmt.Errorf("--%s: %w", name, err)
			return nil
		}
		return &v
	}
	integer := func(name string) *int64 {
		s := flagString(flags, name)
		if s == "" || err != nil {
			return nil
		}
		v, perr := strconv.ParseInt(s, 10, 64)
		if perr != nil {
			err = fmt.Errorf("--%s: %q is not an integer", name, s)
			return nil
		}
		return &v
	}
	unsigned := func(name string) *uint64 {
		s := flagString(flags, name)
		if s == "" || err != nil {
			return nil
		}
		v, perr := strconv.ParseUint(s, 10, 64)
		if perr != nil {
			err = fmt.Errorf("--%s: %q is not a non-negative integer", name, s)
			return nil
		}
		return &v
	}
	r.Memory.Limit = size("memory")
	r.Memory.Reservation = size("memory-reservation")
	r.Memory.Swap = size("memory-swap")
	r.CPU.Period = unsigned("cpu-period")
	r.CPU.Quota = integer("cpu-quota")
	r.CPU.Burst = unsigned("cpu-burst")
	r.CPU.RealtimePeriod = unsigned("cpu-rt-period")
	r.CPU.RealtimeRuntime = integer("cpu-rt-runtime")
	r.CPU.Shares = unsigned("cpu-share")
	if shares := unsigned("cpu-shares"); shares != nil {
		r.CPU.Shares = shares
	}
	if idle := integer("cpu-idle"); idle != nil {
		if *idle != 0 && *idle != 1 {
			return nil, fmt.Errorf("--cpu-idle: %d is not 0 or 1", *idle)
		}
		r.CPU.Idle = idle
	}
	r.CPU.Cpus = flagString(flags, "cpuset-cpus")
	r.CPU.Mems = flagString(flags, "cpuset-mems")
	if w := unsigned("blkio-weight"); w != nil {
		if *w > 1000 {
			return nil, fmt.Errorf("--blkio-weight: %d is above 1000", *w)
		}
		weight := uint16(*w)
		r.BlockIO.Weight = &weight
	}
	if p := integer("pids-limit"); p != nil {
		r.Pids = &specs.LinuxPids{Limit: p}
	}
	for _, name := range []string{"kernel-memory", "kernel-memory-tcp"} {
		if flagString(flags, name) != "" {
			slog.Warn("update: --" + name + " is ignored: the kernel no longer supports kernel memory limits")
		}
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

func flagString(flags *pflag.FlagSet, name string) string {
	v, _ := flags.GetString(name)
	return v
}

// parseSize reads a byte count: a number with an optional binary suffix
// (k, m, g, t, p, optionally followed by b or ib, any case), or -1 for
// no limit.
func parseSize(s string) (int64, error) {
	if s == "-1" {
		return -1, nil
	}
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "b"), "i")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		case 't':
			mult = 1 << 40
		case 'p':
			mult = 1 << 50
		}
		if mult != 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	size := v * float64(mult)
	if size > float64(1<<62) {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(size), nil
}
