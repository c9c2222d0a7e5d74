package libcontainer

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/checkpoint-restore/go-criu/v8/rpc"
	"github.com/moby/sys/mountinfo"
	"github.com/opencontainers/cgroups"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// The container's cgroup directories bound into it, which a checkpoint
// declares to criu as external mounts beyond checkpoint_linux.go's.

// cgroupBindMounts returns the mount points, as the container sees them,
// of the container's cgroup mounts that are binds of the host's cgroup
// directories: criu finds no mount of the root of their hierarchy in the
// container ("doesn't have a proper root mount") and must take them as
// external, as runc declares them. They are those mountCgroup makes
// unless it mounts a cgroup2 of the container's own cgroup namespace:
// every hierarchy on a v1 or hybrid host (the v1 ones and the unified
// one), the container's cgroup2 directory on a v2 host without a cgroup
// namespace.
func cgroupBindMounts(cfg *configs.Config, mounts []*mountinfo.Info, unified bool) []string {
	if unified && cfg.Namespaces.IsPrivate(configs.NEWCGROUP) {
		return nil
	}
	var out []string
	for _, cm := range cfg.Mounts {
		if !isCgroupMount(cm) {
			continue
		}
		dest := filepath.Clean(cm.Destination)
		for _, m := range mounts {
			if (m.FSType == "cgroup" || m.FSType == "cgroup2") && (m.Mountpoint == dest || strings.HasPrefix(m.Mountpoint, dest+"/")) {
				out = append(out, m.Mountpoint)
			}
		}
	}
	return out
}

// cgroupMountSource returns the host directory to bind on mp, a cgroup
// bind mount of the checkpoint, for the restored container: its cgroup
// directory in the hierarchy mountCgroup put there. paths are the
// container's cgroup directories by controller ("" the unified
// hierarchy), hosts the host's v1 hierarchies.
func cgroupMountSource(cfg *configs.Config, mp string, paths map[string]string, hosts []cgroupMount) (string, error) {
	for _, cm := range cfg.Mounts {
		if !isCgroupMount(cm) {
			continue
		}
		dest := filepath.Clean(cm.Destination)
		var name string
		switch {
		case mp == dest:
			// The cgroup2 directory on a v2 host.
		case strings.HasPrefix(mp, dest+"/"):
			name = mp[len(dest)+1:]
		default:
			continue
		}
		dir := ""
		if name == "" || name == "unified" {
			dir = paths[""]
		} else {
			for _, h := range hosts {
				if filepath.Base(h.Mountpoint) == name {
					dir = cgroupDirFor(paths, h.Subsystems)
					break
				}
			}
		}
		if dir == "" {
			return "", fmt.Errorf("the checkpoint has a cgroup mount on %s that the container's cgroups here do not have", mp)
		}
		return dir, nil
	}
	return "", fmt.Errorf("the checkpoint has a cgroup mount on %s that the container's config does not have", mp)
}

// cgroupMounts binds the restored container's cgroup directories where
// the checkpoint had cgroup bind mounts.
func (r *restoring) cgroupMounts(cfg *configs.Config, rec *checkpointRecord, cg *cgroup) error {
	if len(rec.CgroupMounts) == 0 {
		return nil
	}
	if cg == nil {
		return errors.New("the checkpoint has cgroup mounts and the container's config no cgroup")
	}
	hosts, err := hostCgroupMounts(cfg)
	if err != nil {
		return err
	}
	paths := cg.m.GetPaths()
	for _, mp := range rec.CgroupMounts {
		src, err := cgroupMountSource(cfg, mp, paths, hosts)
		if err != nil {
			return err
		}
		r.req.Opts.ExtMnt = append(r.req.Opts.ExtMnt, &rpc.ExtMountMap{Key: new(mp), Val: new(src)})
	}
	return nil
}

// declareCgroupMounts declares the container's cgroup bind mounts
// external and records them.
func declareCgroupMounts(ro *rpc.CriuOpts, rec *checkpointRecord, cfg *configs.Config, mounts []*mountinfo.Info) {
	for _, mp := range cgroupBindMounts(cfg, mounts, cgroups.IsCgroup2UnifiedMode()) {
		ro.ExtMnt = append(ro.ExtMnt, &rpc.ExtMountMap{Key: new(mp), Val: new(mp)})
		rec.CgroupMounts = append(rec.CgroupMounts, mp)
	}
}
