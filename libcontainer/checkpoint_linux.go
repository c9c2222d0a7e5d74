package libcontainer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/checkpoint-restore/go-criu/v8/rpc"
	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/criu"
	"github.com/corral-oci/corral/libcontainer/internal/procfs"
)

// What a checkpoint declares to criu as external, and how restore finds
// it again:
//
//   - a network or pid namespace given by path: "net[<inode>]:extRootNetNS",
//     "pid[<inode>]:extRootPidNS" on dump; on restore the namespace at
//     the same path is inherited under that key (ipc and uts namespaces
//     given by path are saved with the container and joined on restore:
//     criu_external_linux.go);
//   - mounts whose source is outside the container (bind mounts, masked
//     files behind the host's /dev/null, device nodes bound from the
//     host, the pty bound on /dev/console, the cgroup directories bound
//     from the host): "mnt[<mount point>]" with the mount point as key;
//     restore maps each key to the host path the container's config
//     names, or to the restored container's cgroup directory;
//   - init's stdio when it is outside the container: pipes by their
//     "pipe:[inode]", host files by "file[<mnt_id>:<inode>]", terminals by
//     "tty[<rdev>:<dev>]"; restore hands the restored process its new
//     stdio under those keys.
//
// The keys are kept next to the images in checkpointFile.
const (
	checkpointFile = "corral-checkpoint.json"
	extNetNSKey    = "extRootNetNS"
	dumpLog        = "dump.log"
	restoreLog     = "restore.log"
	criuLogLevel   = 4
)

// checkpointRecord is checkpointFile: what restore must know of a
// checkpoint beyond criu's images.
type checkpointRecord struct {
	// Stdio are init's fds 0, 1 and 2.
	Stdio [3]stdioRecord `json:"stdio"`
	// ExternalMounts are the mount points saved as external.
	ExternalMounts []string `json:"external_mounts,omitempty"`
	// NetNS is the network namespace the container joined by path.
	NetNS string `json:"netns,omitempty"`
	// JoinedNS are the other namespaces joined by path, by their names
	// in /proc/<pid>/ns ("pid", "ipc", "uts").
	JoinedNS map[string]string `json:"joined_namespaces,omitempty"`
	// CgroupMounts are the mount points of the cgroup directories bound
	// from the host, saved as external.
	CgroupMounts []string `json:"cgroup_mounts,omitempty"`
}

// The kinds of a stdio fd of init.
const (
	stdioInternal = ""     // inside the container: criu restores it
	stdioPipe     = "pipe" // a pipe to the outside
	stdioFile     = "file" // a file outside the container
	stdioTTY      = "tty"  // a terminal
)

// stdioRecord is one stdio fd of init at checkpoint time.
type stdioRecord struct {
	Kind string `json:"kind,omitempty"`
	// Key is what criu calls it: "pipe:[123]", "file[18:3]",
	// "tty[8800:17]".
	Key string `json:"key,omitempty"`
	// Path is where it pointed, for error messages.
	Path string `json:"path,omitempty"`
}

// Checkpoint saves the container's processes with criu into
// opts.ImagesDirectory. Unless opts.LeaveRunning or opts.PreDump is set,
// the processes are gone afterwards and the container is stopped: Destroy
// it, or Restore it in place.
//
// The container must be running or paused, and its namespaces its own
// or, given by path, network, pid, ipc or uts ones, which restore puts the
// container back into. criu reads the configuration file the
// "org.criu.config" annotation names (CriuConfigAnnotation) after the
// options corral sends.
func (c *Container) Checkpoint(opts *CriuOpts) error {
	if opts == nil || opts.ImagesDirectory == "" {
		return opError("checkpoint", c.id, errors.New("no images directory"))
	}
	st, status, unlock, err := c.lockedStatus()
	if err != nil {
		return err
	}
	defer unlock()
	if status != Running && status != Paused {
		return opError("checkpoint", c.id, fmt.Errorf("%w (it is %s)", ErrNotRunning, status))
	}
	cr := criu.New(opts.CriuPath)
	if err := cr.CheckVersion(criu.MinVersion); err != nil {
		return opError("checkpoint", c.id, err)
	}
	if err := c.checkpoint(cr, st, status, opts); err != nil {
		return opError("checkpoint", c.id, err)
	}
	return nil
}

func (c *Container) checkpoint(cr *criu.Criu, st *State, status Status, opts *CriuOpts) error {
	cfg := &st.Config
	if err := checkJoinedNamespaces(cfg); err != nil {
		return err
	}
	if opts.PreDump {
		if err := cr.CheckVersion(criu.SinglePreDumpVersion); err != nil {
			return fmt.Errorf("pre-dump: %w", err)
		}
		if err := checkMemTracking(cr); err != nil {
			return err
		}
	}
	imgDir, err := openCriuDir("images", opts.ImagesDirectory, true)
	if err != nil {
		return err
	}
	defer imgDir.Close()
	workDir := imgDir
	if opts.WorkDirectory != "" {
		if workDir, err = openCriuDir("work", opts.WorkDirectory, true); err != nil {
			return err
		}
		defer workDir.Close()
	}
	configFile, err := criuConfigFile(cfg.Labels)
	if err != nil {
		return err
	}
	pid := st.InitProcessPid
	ro := &rpc.CriuOpts{
		ConfigFile:    ifSet(configFile),
		ImagesDirFd:   new(int32(imgDir.Fd())),
		WorkDirFd:     new(int32(workDir.Fd())),
		LogLevel:      new(int32(criuLogLevel)),
		LogFile:       new(dumpLog),
		Pid:           new(int32(pid)),
		Root:          ifSet(cfg.Rootfs),
		ManageCgroups: new(true),
		LeaveRunning:  new(opts.LeaveRunning || opts.PreDump),
	}
	applyCommonOpts(ro, opts)
	if opts.ParentImage != "" {
		ro.ParentImg = new(opts.ParentImage)
		ro.TrackMem = new(true)
	}
	if opts.PreDump {
		ro.TrackMem = new(true)
	}
	if opts.PageServer.Address != "" {
		ro.Ps = &rpc.CriuPageServerInfo{
			Address: new(opts.PageServer.Address),
			Port:    ifSet(opts.PageServer.Port),
		}
	}
	if status == Paused {
		// Frozen tasks cannot be seized one by one: criu works through
		// the freezer, and leaves it as it found it.
		ro.FreezeCgroup = ifSet(freezerPath(st))
	}

	rec, err := declareExternals(ro, cfg, pid)
	if err != nil {
		return err
	}
	typ := rpc.CriuReqType_DUMP
	if opts.PreDump {
		typ = rpc.CriuReqType_SINGLE_PRE_DUMP
	}
	req := &criu.Request{Type: typ, Opts: ro, Notify: statusNotify(opts), PrivateMounts: cfg.Namespaces.Contains(configs.NEWNS)}
	if _, err := cr.Do(req); err != nil {
		return criuFailure(err, filepath.Join(workDir.Name(), dumpLog))
	}
	return writeCheckpointRecord(imgDir.Name(), rec)
}

// declareExternals tells criu what of the container is outside it: the
// network namespace given by path, mounts of host paths, init's stdio;
// the record says how restore finds them again.
func declareExternals(ro *rpc.CriuOpts, cfg *configs.Config, pid int) (*checkpointRecord, error) {
	rec := &checkpointRecord{}
	if err := declareJoinedNamespaces(ro, rec, cfg, pid); err != nil {
		return nil, err
	}
	mounts, err := initMounts(pid)
	if err != nil {
		return nil, err
	}
	for _, m := range mounts {
		if externalMount(cfg, m) {
			ro.ExtMnt = append(ro.ExtMnt, &rpc.ExtMountMap{Key: new(m.Mountpoint), Val: new(m.Mountpoint)})
			rec.ExternalMounts = append(rec.ExternalMounts, m.Mountpoint)
		}
	}
	declareCgroupMounts(ro, rec, cfg, mounts)
	if rec.Stdio, err = initStdio(pid, mounts); err != nil {
		return nil, err
	}
	for _, s := range rec.Stdio {
		// Pipes need no declaration: criu saves them as pipes.
		if (s.Kind == stdioFile || s.Kind == stdioTTY) && !slices.Contains(ro.External, s.Key) {
			ro.External = append(ro.External, s.Key)
		}
	}
	return rec, nil
}

// applyCommonOpts sets the options checkpoint and restore share. The
// flags go to criu either way, false included, so that criu's
// configuration files do not decide them.
func applyCommonOpts(ro *rpc.CriuOpts, opts *CriuOpts) {
	ro.TcpEstablished = new(opts.TcpEstablished)
	ro.TcpSkipInFlight = new(opts.TcpSkipInFlight)
	ro.LinkRemap = new(opts.LinkRemap)
	ro.ExtUnixSk = new(opts.ExternalUnixConnections)
	ro.ShellJob = new(opts.ShellJob)
	ro.FileLocks = new(opts.FileLocks)
	ro.AutoDedup = new(opts.AutoDedup)
	ro.LazyPages = new(opts.LazyPages)
	if m, ok := cgroupsModes[opts.ManageCgroupsMode]; ok {
		ro.ManageCgroupsMode = m.Enum()
	}
	var empty uint32
	for _, t := range opts.EmptyNs {
		empty |= t.CloneFlag()
	}
	ro.EmptyNs = ifSet(empty)
}

// cgroupsModes are criu's names of the modes; the default, missing
// here, is left to criu.
var cgroupsModes = map[CgroupsMode]rpc.CriuCgMode{
	CgroupsModeSoft:   rpc.CriuCgMode_SOFT,
	CgroupsModeFull:   rpc.CriuCgMode_FULL,
	CgroupsModeStrict: rpc.CriuCgMode_STRICT,
	CgroupsModeIgnore: rpc.CriuCgMode_IGNORE,
}

// ifSet is v for an option of criu, or nil when v is zero: not sent, so
// that criu's configuration files or its default decide.
func ifSet[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// statusNotify writes the '\0' of opts.StatusFd when criu reports that a
// lazy-pages checkpoint is ready.
func statusNotify(opts *CriuOpts) func(*criu.Notification) error {
	return func(n *criu.Notification) error {
		if n.File != nil {
			n.File.Close()
		}
		if n.Script == "status-ready" && opts.StatusFd > 0 {
			if _, err := unix.Write(opts.StatusFd, []byte{0}); err != nil {
				return fmt.Errorf("write to status fd %d: %w", opts.StatusFd, err)
			}
		}
		return nil
	}
}

// checkMemTracking tells why a pre-dump cannot run before criu fails.
func checkMemTracking(cr *criu.Criu) error {
	f, err := cr.Features(&rpc.CriuFeatures{MemTrack: new(true)})
	if err != nil {
		return fmt.Errorf("pre-dump: check memory tracking: %w", err)
	}
	if !f.GetMemTrack() {
		return errors.New("pre-dump needs the kernel's memory change tracking (soft-dirty pages), which this kernel lacks")
	}
	return nil
}

// openCriuDir opens a directory for criu, creating it first (mode 0700)
// if create is set.
func openCriuDir(what, dir string, create bool) (*os.File, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("%s directory %s: %w", what, dir, err)
	}
	if create {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create %s directory: %w", what, err)
		}
	}
	f, err := os.OpenFile(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s directory: %w", what, err)
	}
	return f, nil
}

// criuFailure adds what criu's log says to its error.
func criuFailure(err error, log string) error {
	if errors.Is(err, criu.ErrNotFound) {
		return err
	}
	if lines := criu.LogErrors(log, 3); lines != "" {
		return fmt.Errorf("%w: %s (log: %s)", err, lines, log)
	}
	return fmt.Errorf("%w (log: %s)", err, log)
}

// freezerPath is the cgroup criu freezes a paused container through.
func freezerPath(st *State) string {
	if p, ok := st.CgroupPaths["freezer"]; ok {
		return p
	}
	return st.CgroupPaths[""]
}

// initMounts reads init's mount table, mount points as the container
// sees them.
func initMounts(pid int) ([]*mountinfo.Info, error) {
	b, err := procfs.ReadPid(pid, "mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mounts of init: %w", err)
	}
	mounts, err := mountinfo.GetMountsFromReader(bytes.NewReader(b), nil)
	if err != nil {
		return nil, fmt.Errorf("read mounts of init: %w", err)
	}
	return mounts, nil
}

// externalMount reports whether the container's mount m comes from
// outside the container: criu can save it only as a reference.
func externalMount(cfg *configs.Config, m *mountinfo.Info) bool {
	_, ok := externalSource(cfg, m.Mountpoint, m.FSType)
	return ok
}

// externalSource returns the host path mounted at the container's mount
// point mp, if the config puts one there. fsType is the type of the mount
// at checkpoint time, "" on restore.
func externalSource(cfg *configs.Config, mp, fsType string) (string, bool) {
	if mp == "/" {
		return "", false
	}
	for _, m := range cfg.Mounts {
		if m.IsBind() && m.Device != "cgroup" && filepath.Clean(m.Destination) == mp {
			return m.Source, true
		}
	}
	for _, p := range cfg.MaskPaths {
		// A masked directory is an empty tmpfs criu saves as it is.
		if filepath.Clean(p) == mp && fsType != "tmpfs" {
			return "/dev/null", true
		}
	}
	if cfg.Namespaces.Contains(configs.NEWUSER) {
		for _, d := range cfg.Devices {
			if d.Path != "" && filepath.Clean(d.Path) == mp {
				return d.Path, true
			}
		}
	}
	if mp == "/dev/console" && (fsType == "devpts" || fsType == "") {
		// The caller puts the new terminal there.
		return "", true
	}
	return "", false
}

// initStdio describes init's fds 0, 1 and 2, as criu will find them.
func initStdio(pid int, mounts []*mountinfo.Info) ([3]stdioRecord, error) {
	var recs [3]stdioRecord
	inside := make(map[int]bool, len(mounts))
	for _, m := range mounts {
		inside[m.ID] = true
	}
	for fd := range recs {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd))
		if errors.Is(err, os.ErrNotExist) {
			continue // closed
		}
		if err != nil {
			return recs, fmt.Errorf("fd %d of init: %w", fd, err)
		}
		var st unix.Stat_t
		if err := unix.Stat(fmt.Sprintf("/proc/%d/fd/%d", pid, fd), &st); err != nil {
			return recs, fmt.Errorf("fd %d of init: %w", fd, err)
		}
		r := &recs[fd]
		r.Path = link
		switch {
		case strings.HasPrefix(link, "pipe:"):
			r.Kind, r.Key = stdioPipe, link
		case st.Mode&unix.S_IFMT == unix.S_IFCHR && isPtySlave(st.Rdev):
			r.Kind = stdioTTY
			r.Key = fmt.Sprintf("tty[%x:%x]", st.Rdev, st.Dev)
		case strings.HasPrefix(link, "/"):
			mnt, err := fdMountID(pid, fd)
			if err != nil {
				return recs, err
			}
			if !inside[mnt] {
				r.Kind = stdioFile
				r.Key = fmt.Sprintf("file[%x:%x]", mnt, st.Ino)
			}
		}
	}
	return recs, nil
}

// isPtySlave reports whether rdev is a unix98 pty slave (majors 136-143).
func isPtySlave(rdev uint64) bool {
	major := unix.Major(rdev)
	return major >= 136 && major <= 143
}

// fdMountID reads the mount id of a process's fd from its fdinfo.
func fdMountID(pid, fd int) (int, error) {
	b, err := procfs.ReadPid(pid, "fdinfo/"+strconv.Itoa(fd))
	if err != nil {
		return 0, fmt.Errorf("fdinfo %d of init: %w", fd, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "mnt_id:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, fmt.Errorf("fdinfo %d of init has no mnt_id", fd)
}

func writeCheckpointRecord(dir string, rec *checkpointRecord) error {
	b, err := json.MarshalIndent(rec, "", "\t")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, checkpointFile), b, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", checkpointFile, err)
	}
	return nil
}

func readCheckpointRecord(dir string) (*checkpointRecord, error) {
	b, err := os.ReadFile(filepath.Join(dir, checkpointFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no checkpoint in %s (%s is missing)", dir, checkpointFile)
		}
		return nil, err
	}
	var rec checkpointRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, checkpointFile), err)
	}
	return &rec, nil
}
