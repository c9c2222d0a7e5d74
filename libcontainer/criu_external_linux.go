package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/checkpoint-restore/go-criu/v8/rpc"
	"github.com/moby/sys/mountinfo"
	"github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// What of a container's surroundings a checkpoint declares to criu beyond
// checkpoint_linux.go's mounts and stdio: the namespaces it joined by
// path (a pod's containers join those of its sandbox), the cgroup
// directories bound into it, and the criu configuration file its
// annotation names.

// extNSKeys are the keys under which criu saves a namespace joined by
// path as external ("net[<inode>]:<key>") and finds the namespace to
// restore into among the inherited fds. criu can do this for network and
// pid namespaces only.
var extNSKeys = map[configs.NamespaceType]string{
	configs.NEWNET: extNetNSKey,
	configs.NEWPID: "extRootPidNS",
}

// joinNSNames are the namespaces criu saves with the container's
// processes and, on restore, joins by path instead of creating them
// (criu's join_ns), under criu's names.
var joinNSNames = map[configs.NamespaceType]string{
	configs.NEWIPC: "ipc",
	configs.NEWUTS: "uts",
}

// checkJoinedNamespaces refuses the namespaces joined by path that criu
// can neither declare external nor join on restore: it would save them as
// the container's own and restore new ones.
func checkJoinedNamespaces(cfg *configs.Config) error {
	for _, ns := range cfg.Namespaces {
		if ns.Path == "" {
			continue
		}
		if _, ok := extNSKeys[ns.Type]; ok {
			continue
		}
		if _, ok := joinNSNames[ns.Type]; ok {
			continue
		}
		why := "criu cannot restore into an existing one"
		if ns.Type == configs.NEWCGROUP {
			why = "criu cannot restore into an existing cgroup namespace"
		}
		return fmt.Errorf("the %s namespace is joined by path (%s): %s; only network, pid, ipc and uts namespaces given by path can be checkpointed and restored", ns.Type.File(), ns.Path, why)
	}
	return nil
}

// declareJoinedNamespaces records the namespaces the container joined by
// path, and declares the network and pid ones external by their inode.
func declareJoinedNamespaces(ro *rpc.CriuOpts, rec *checkpointRecord, cfg *configs.Config, pid int) error {
	for _, ns := range cfg.Namespaces {
		if ns.Path == "" {
			continue
		}
		if key, ok := extNSKeys[ns.Type]; ok {
			var st unix.Stat_t
			if err := unix.Stat(fmt.Sprintf("/proc/%d/ns/%s", pid, ns.Type.File()), &st); err != nil {
				return fmt.Errorf("%s namespace of init: %w", ns.Type.File(), err)
			}
			ro.External = append(ro.External, fmt.Sprintf("%s[%d]:%s", ns.Type.File(), st.Ino, key))
		}
		if ns.Type == configs.NEWNET {
			// Kept where checkpoints made before the other namespaces
			// were recorded have it.
			rec.NetNS = ns.Path
			continue
		}
		if rec.JoinedNS == nil {
			rec.JoinedNS = map[string]string{}
		}
		rec.JoinedNS[ns.Type.File()] = ns.Path
	}
	return nil
}

// joinNamespaces has criu restore the container into the namespaces its
// config joins by path, which must be those of the checkpoint: network
// and pid ones inherited under their keys, ipc and uts ones joined.
func (r *restoring) joinNamespaces(cfg *configs.Config, rec *checkpointRecord) error {
	for _, t := range []configs.NamespaceType{configs.NEWNET, configs.NEWPID, configs.NEWIPC, configs.NEWUTS} {
		path := cfg.Namespaces.PathOf(t)
		saved := rec.JoinedNS[t.File()]
		if t == configs.NEWNET {
			saved = rec.NetNS
		}
		switch {
		case path == "" && saved == "":
			continue
		case path == "":
			return fmt.Errorf("the checkpoint was taken in the %s namespace %s, the container's config has none given by path", t.File(), saved)
		case saved == "":
			return fmt.Errorf("the container's config joins the %s namespace %s, the checkpoint had a %s namespace of its own", t.File(), path, t.File())
		}
		f, err := openNamespace(path, t)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("%s namespace %s no longer exists: %w", namespaceName(t), path, err)
			}
			return err
		}
		if key, ok := extNSKeys[t]; ok {
			r.closeFile(f)
			r.req.Opts.InheritFd = append(r.req.Opts.InheritFd, &rpc.InheritFd{Key: new(key), Fd: new(r.req.AddFile(f))})
			continue
		}
		// criu opens the path itself; opening it here checked that it
		// is a namespace of that type.
		f.Close()
		r.req.Opts.JoinNs = append(r.req.Opts.JoinNs, &rpc.JoinNamespace{Ns: new(joinNSNames[t]), NsFile: new(path)})
	}
	return nil
}

// namespaceName is how errors name a namespace type: "network", "pid".
func namespaceName(t configs.NamespaceType) string {
	if t == configs.NEWNET {
		return "network"
	}
	return t.File()
}

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

// CriuConfigAnnotation names, in a container's config, a criu
// configuration file for its checkpoints and restores, as runc reads it:
// criu reads the file after the options the runtime sends, so that what
// it sets wins. Set to "", no file is passed.
const CriuConfigAnnotation = "org.criu.config"

// defaultCriuConfigs are the files passed to criu when the annotation is
// not set: the first that exists. corral's own first; then runc's, so that
// a host set up for runc checkpoints the same with corral.
var defaultCriuConfigs = []string{"/etc/criu/corral.conf", "/etc/criu/runc.conf"}

// criuConfigFile returns the criu configuration file for a container
// with labels (its annotations, "key=value"), "" for none. A file the
// annotation names must exist: runc passes it on and criu ignores a
// missing one, so a typo would change what a checkpoint saves unnoticed.
func criuConfigFile(labels []string) (string, error) {
	for _, l := range labels {
		v, ok := strings.CutPrefix(l, CriuConfigAnnotation+"=")
		if !ok {
			continue
		}
		if v == "" {
			return "", nil
		}
		if !filepath.IsAbs(v) {
			return "", fmt.Errorf("annotation %s: %q is not an absolute path", CriuConfigAnnotation, v)
		}
		fi, err := os.Stat(v)
		if err == nil && fi.IsDir() {
			err = errors.New("is a directory")
		}
		if err != nil {
			return "", fmt.Errorf("annotation %s: criu configuration file %s: %w", CriuConfigAnnotation, v, err)
		}
		return v, nil
	}
	for _, p := range defaultCriuConfigs {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", nil
}
