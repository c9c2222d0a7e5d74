package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/checkpoint-restore/go-criu/v8/rpc"
	"github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/criu"
	"github.com/corral-oci/corral/libcontainer/internal/bootstrap"
)

// criuRootDir is where criu finds the rootfs to restore the root from,
// in the state directory: bound there in criu's mount namespace only.
const criuRootDir = "criu-root"

// criuYardDir is where criu mounts the cgroup hierarchies during a
// restore, in the state directory and in criu's own mount namespace.
const criuYardDir = "criu-cgyard"

// Restore brings the container's processes back from the checkpoint in
// opts.ImagesDirectory. The container must be stopped: newly created, or
// checkpointed and not left running. The restored init becomes p: its
// stdio replace those of the checkpointed init, it can be waited for and
// signalled, and the container is running again as if started.
//
// A checkpointed init that had a terminal gets a new one, a pty of the
// host's devpts bound on the container's /dev/console: its master is sent
// to p.ConsoleSocket; without one, p's stdio must be a terminal. A stdio
// fd that was a host file must be replaced by a file of the same kind
// (criu checks type and mode, and the size of a regular file not opened
// for appending); pipes are replaced by anything. The namespaces the
// config joins by path must be those the checkpoint was taken in, and
// still exist.
func (c *Container) Restore(p *Process, opts *CriuOpts) error {
	if p == nil {
		return opError("restore", c.id, errors.New("no process"))
	}
	if opts == nil || opts.ImagesDirectory == "" {
		return opError("restore", c.id, errors.New("no images directory"))
	}
	st, status, unlock, err := c.lockedStatus()
	if err != nil {
		return err
	}
	defer unlock()
	if status != Stopped {
		return opError("restore", c.id, fmt.Errorf("%w (%s)", ErrRunning, status))
	}
	if err := checkRestoreNetDevices(&st.Config); err != nil {
		return opError("restore", c.id, err)
	}
	if st.Config.IntelRdt != nil {
		// criu makes the processes anew, outside any resctrl group;
		// they would run without the allocation the config asks.
		return opError("restore", c.id, errors.New("intel_rdt: restoring a container with linux.intelRdt is not supported: the restored processes would not be in its resctrl group"))
	}
	cr := criu.New(opts.CriuPath)
	if err := cr.CheckVersion(criu.MinVersion); err != nil {
		return opError("restore", c.id, err)
	}
	if err := c.restore(cr, st, p, opts); err != nil {
		return opError("restore", c.id, err)
	}
	return nil
}

// restoring is what one restore opened and must close.
type restoring struct {
	req     *criu.Request
	closers []func()
	// console is the master of the new terminal, for the console
	// socket; consoleName the path of its peer in the host's devpts,
	// which criu binds on /dev/console.
	console     *os.File
	consoleName string
	// ttyPeer is the new terminal's peer.
	ttyPeer *os.File
}

func (r *restoring) close() {
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
	r.closers = nil
}

func (r *restoring) closeFile(f *os.File) {
	r.closers = append(r.closers, func() { f.Close() })
}

func (c *Container) restore(cr *criu.Criu, st *State, p *Process, opts *CriuOpts) (retErr error) {
	cfg := &st.Config
	if err := checkJoinedNamespaces(cfg); err != nil {
		return err
	}
	imgDir, err := openCriuDir("images", opts.ImagesDirectory, false)
	if err != nil {
		return err
	}
	defer imgDir.Close()
	rec, err := readCheckpointRecord(imgDir.Name())
	if err != nil {
		return err
	}
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
	r := newRestoring(opts, imgDir, workDir)
	r.req.Opts.ConfigFile = ifSet(configFile)
	defer r.close()
	if err := r.joinNamespaces(cfg, rec); err != nil {
		return err
	}
	io, err := newStdio(p)
	if err != nil {
		return fmt.Errorf("set up stdio: %w", err)
	}
	defer func() {
		if retErr != nil {
			io.closeAll()
		}
	}()
	if err := r.inheritStdio(rec, io, p); err != nil {
		return err
	}
	if err := r.externalMounts(cfg, rec); err != nil {
		return err
	}
	if err := prepareMountTargets(cfg); err != nil {
		return err
	}
	cg, err := r.cgroup(cfg)
	if err != nil {
		return err
	}
	if cg != nil {
		defer func() {
			if retErr != nil {
				cg.destroy()
			}
		}()
	}
	if err := r.cgroupMounts(cfg, rec, cg); err != nil {
		return err
	}
	if cfg.Namespaces.Contains(configs.NEWNS) {
		if err := c.privateCriuMounts(r, cfg); err != nil {
			return err
		}
	}
	r.req.Notify = c.restoreNotify(st, opts)

	resp, err := cr.Do(r.req)
	if err != nil {
		return criuFailure(err, filepath.Join(workDir.Name(), restoreLog))
	}
	pid := int(resp.GetRestore().GetPid())
	if pid <= 0 {
		return errors.New("criu restore: no pid in its answer")
	}
	if err := c.restored(st, p, pid, cg, io); err != nil {
		unix.Kill(pid, unix.SIGKILL)
		return err
	}
	if r.console != nil {
		if err := sendRestoredConsole(p.ConsoleSocket, r.console, r.consoleName); err != nil {
			return err
		}
	}
	return nil
}

// newRestoring starts the restore request from opts.
func newRestoring(opts *CriuOpts, imgDir, workDir *os.File) *restoring {
	ro := &rpc.CriuOpts{
		ImagesDirFd:     new(int32(imgDir.Fd())),
		WorkDirFd:       new(int32(workDir.Fd())),
		LogLevel:        new(int32(criuLogLevel)),
		LogFile:         new(restoreLog),
		ManageCgroups:   new(true),
		RstSibling:      new(true),
		LsmProfile:      ifSet(opts.LsmProfile),
		LsmMountContext: ifSet(opts.LsmMountContext),
	}
	applyCommonOpts(ro, opts)
	return &restoring{req: &criu.Request{Type: rpc.CriuReqType_RESTORE, Opts: ro}}
}

// externalMounts maps each external mount of the checkpoint to the host
// path the config mounts there now.
func (r *restoring) externalMounts(cfg *configs.Config, rec *checkpointRecord) error {
	for _, mp := range rec.ExternalMounts {
		src, ok := externalSource(cfg, mp, "")
		if mp == "/dev/console" && ok {
			src = r.consoleName
		}
		if !ok || src == "" {
			return fmt.Errorf("the checkpoint has an external mount on %s that the container's config does not have", mp)
		}
		r.req.Opts.ExtMnt = append(r.req.Opts.ExtMnt, &rpc.ExtMountMap{Key: new(mp), Val: new(src)})
	}
	return nil
}

// cgroup makes the container's cgroup with the config's limits, and has
// criu restore the tree into it. The caller destroys it if the restore
// fails.
func (r *restoring) cgroup(cfg *configs.Config) (*cgroup, error) {
	cg, err := newCgroup(cfg)
	if err != nil || cg == nil {
		return nil, err
	}
	if err := cg.checkUnused(); err != nil {
		return nil, err
	}
	if err := cg.create(); err != nil {
		cg.destroy()
		return nil, err
	}
	roots, err := criuCgroupRoots(cg.m.GetPaths())
	if err != nil {
		cg.destroy()
		return nil, err
	}
	r.req.Opts.CgRoot = roots
	// Whatever criu forks, and the tree if criu leaves cgroups alone, is
	// born in the container's cgroup.
	r.req.Started = func(pid int) error {
		if err := cg.m.Apply(pid); err != nil {
			return fmt.Errorf("cgroups: put criu in the container's cgroup: %w", err)
		}
		return nil
	}
	return cg, nil
}

// inheritStdio gives the restored process its new stdio in place of the
// checkpointed init's pipes, host files and terminal.
func (r *restoring) inheritStdio(rec *checkpointRecord, io *stdio, p *Process) error {
	inherited := map[string]bool{}
	inherit := func(key string, f *os.File) {
		if inherited[key] {
			return
		}
		inherited[key] = true
		r.req.Opts.InheritFd = append(r.req.Opts.InheritFd, &rpc.InheritFd{Key: new(key), Fd: new(r.req.AddFile(f))})
	}
	var devNull *os.File
	for i, s := range rec.Stdio {
		if s.Kind == stdioInternal {
			continue
		}
		f := io.child[i]
		if s.Kind == stdioTTY {
			if p.ConsoleSocket != nil {
				if r.console == nil {
					if err := r.newTerminal(p); err != nil {
						return err
					}
				}
				inherit(s.Key, r.ttyPeer)
				continue
			}
			if f == nil || !isTerminal(f) {
				return fmt.Errorf("fd %d of the checkpointed init was a terminal (%s): restore needs a console socket or a terminal there", i, s.Path)
			}
			inherit(s.Key, f)
			continue
		}
		if f == nil {
			if devNull == nil {
				var err error
				if devNull, err = os.OpenFile(os.DevNull, os.O_RDWR, 0); err != nil {
					return err
				}
				r.closeFile(devNull)
			}
			f = devNull
		}
		inherit(s.Key, f)
	}
	if p.ConsoleSocket != nil && r.console == nil {
		return errors.New("a console socket was given, but the checkpointed init had no terminal")
	}
	return nil
}

// newTerminal makes the restored init's new terminal: a pty whose peer
// criu installs under the old terminal's key and binds on /dev/console.
func (r *restoring) newTerminal(p *Process) error {
	master, err := os.OpenFile("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open a new terminal: %w", err)
	}
	r.console = master
	r.closeFile(master)
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		return fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		return fmt.Errorf("pty number: %w", err)
	}
	r.consoleName = "/dev/pts/" + strconv.Itoa(n)
	peerFD, _, errno := unix.Syscall(unix.SYS_IOCTL, master.Fd(), unix.TIOCGPTPEER,
		uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if errno != 0 {
		return fmt.Errorf("open pty peer: %w", errno)
	}
	peer := os.NewFile(peerFD, r.consoleName)
	r.ttyPeer = peer
	r.closeFile(peer)
	if p.ConsoleWidth > 0 && p.ConsoleHeight > 0 {
		ws := &unix.Winsize{Col: p.ConsoleWidth, Row: p.ConsoleHeight}
		if err := unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws); err != nil {
			return fmt.Errorf("set console size: %w", err)
		}
	}
	return nil
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// sendRestoredConsole sends the master of the new terminal over the
// console socket, as a start sends init's.
func sendRestoredConsole(sock, master *os.File, name string) error {
	rights := unix.UnixRights(int(master.Fd()))
	if err := unix.Sendmsg(int(sock.Fd()), []byte(name), rights, nil, 0); err != nil {
		return fmt.Errorf("send pty master over the console socket: %w", err)
	}
	return nil
}

// prepareMountTargets creates the mount points of bind mounts missing
// from the rootfs (a checkpoint restored on another machine): criu mounts
// on them and does not create them.
func prepareMountTargets(cfg *configs.Config) error {
	dir, err := os.OpenFile(cfg.Rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open rootfs: %w", err)
	}
	defer dir.Close()
	r := &rootfs{cfg: cfg, dir: dir}
	for _, m := range cfg.Mounts {
		if !m.IsBind() || m.Device == "cgroup" {
			continue
		}
		if f, err := pathrs.OpenatInRoot(dir, m.Destination); err == nil {
			f.Close()
			continue
		}
		var src unix.Stat_t
		if err := unix.Stat(m.Source, &src); err != nil {
			return fmt.Errorf("bind mount source %s: %w", m.Source, err)
		}
		var target *os.File
		if src.Mode&unix.S_IFMT == unix.S_IFDIR {
			target, err = r.mkdirTarget(m.Destination)
		} else {
			target, err = r.fileTarget(m.Destination)
		}
		if err != nil {
			return err
		}
		target.Close()
	}
	return nil
}

// criuCgroupRoots tells criu to restore the tree's cgroups under the
// container's: each controller's path inside its hierarchy.
func criuCgroupRoots(paths map[string]string) ([]*rpc.CgroupRoot, error) {
	var roots []*rpc.CgroupRoot
	for ctrl, dir := range paths {
		if ctrl == "" {
			// The v2 hierarchy, which criu names "": alone, or beside
			// the v1 ones on a hybrid host.
			mnt := "/sys/fs/cgroup"
			if !cgroups.IsCgroup2UnifiedMode() {
				mnt = "/sys/fs/cgroup/unified"
			}
			rel, err := filepath.Rel(mnt, dir)
			if err != nil {
				return nil, err
			}
			roots = append(roots, &rpc.CgroupRoot{Ctrl: new(""), Path: new("/" + rel)})
			continue
		}
		mnt, root, err := cgroups.FindCgroupMountpointAndRoot(dir, ctrl)
		if err != nil {
			// A controller criu does not see as mounted (named ones
			// without a mount): nothing to restore there.
			continue
		}
		rel, err := filepath.Rel(mnt, dir)
		if err != nil {
			return nil, err
		}
		roots = append(roots, &rpc.CgroupRoot{Ctrl: new(ctrl), Path: new(filepath.Join(root, rel))})
	}
	return roots, nil
}

// privateCriuMounts runs criu in a mount namespace of its own, a private
// copy of ours, so that nothing it mounts shows on the host, even for a
// moment:
//
//   - the restored root: criu wants it as a mount point and does not
//     restore its flags, so the criu root helper (in criu's namespace,
//     before it executes criu) binds the rootfs there, read-only when the
//     container's root is;
//   - its cgroup yard, where it mounts the cgroup hierarchies to put the
//     restored tasks in their cgroups: by default criu makes it in its
//     work directory, which it reaches through an fd of ours and so
//     through a mount of our namespace, where it may not mount.
func (c *Container) privateCriuMounts(r *restoring, cfg *configs.Config) error {
	for _, name := range []string{criuRootDir, criuYardDir} {
		dir := filepath.Join(c.dir, name)
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("create %s: %w", dir, err)
		}
		r.closers = append(r.closers, func() { removeMountPoints(dir) })
	}
	root := filepath.Join(c.dir, criuRootDir)
	r.req.Opts.Root = new(root)
	r.req.Opts.CgroupYard = new(filepath.Join(c.dir, criuYardDir))
	r.req.PrivateMounts = true
	r.req.Wrap = func(bin string, args []string) *exec.Cmd {
		b, _ := json.Marshal(&criuRoot{Criu: bin, Args: args, Rootfs: cfg.Rootfs, Root: root, Readonly: cfg.Readonlyfs})
		return &exec.Cmd{
			Path: "/proc/self/exe",
			Args: bootstrap.Args(os.Args[0], bootstrap.MarkCriuRoot),
			Env:  append(os.Environ(), criuRootEnv+"="+string(b)),
		}
	}
	return nil
}

// removeMountPoints removes dir and the empty directories criu made in
// it (its cgroup yard's mount points). Only empty directories: were
// anything still mounted there, it must not be emptied.
func removeMountPoints(dir string) {
	if ents, err := os.ReadDir(dir); err == nil {
		for _, e := range ents {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	os.Remove(dir)
}

// criuRootEnv carries the criu root helper's job: Init runs the helper
// when it finds it in a process started with bootstrap.MarkCriuRoot.
const criuRootEnv = "_CORRAL_CRIU_ROOT"

// criuRoot is the criu root helper's job.
type criuRoot struct {
	// Criu and Args are the criu to execute.
	Criu string   `json:"criu"`
	Args []string `json:"args"`
	// Rootfs is bound on Root, read-only if Readonly.
	Rootfs   string `json:"rootfs"`
	Root     string `json:"root"`
	Readonly bool   `json:"readonly"`
}

// runCriuRoot is the criu root helper: the runtime re-executed in criu's
// new, private mount namespace, which binds the container's rootfs where
// criu restores the root from, and executes criu. It does not return.
func runCriuRoot(job string) {
	err := func() error {
		var j criuRoot
		if err := json.Unmarshal([]byte(job), &j); err != nil {
			return err
		}
		if err := unix.Mount(j.Rootfs, j.Root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind rootfs %s on %s: %w", j.Rootfs, j.Root, err)
		}
		if j.Readonly {
			attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
			if err := unix.MountSetattr(unix.AT_FDCWD, j.Root, 0, attr); err != nil {
				return fmt.Errorf("make the restored root read-only: %w", err)
			}
		}
		os.Unsetenv(criuRootEnv)
		return unix.Exec(j.Criu, j.Args, os.Environ())
	}()
	fmt.Fprintln(os.Stderr, "criu root helper:", err)
	os.Exit(1)
}

// restoreNotify answers criu's notifications during a restore: the
// createRuntime hooks run once the namespaces exist, as on a start.
func (c *Container) restoreNotify(st *State, opts *CriuOpts) func(*criu.Notification) error {
	status := statusNotify(opts)
	return func(n *criu.Notification) error {
		switch n.Script {
		case "setup-namespaces":
			cfg := &st.Config
			if len(cfg.Hooks[configs.Prestart])+len(cfg.Hooks[configs.CreateRuntime]) == 0 {
				return nil
			}
			s := ociState(st, Created)
			s.Pid = n.Pid
			for _, name := range []configs.HookName{configs.Prestart, configs.CreateRuntime} {
				if err := cfg.Hooks.Run(name, s); err != nil {
					return err
				}
			}
			return nil
		}
		return status(n)
	}
}

// restored records the restored init as the container's, and hands it
// to p.
func (c *Container) restored(st *State, p *Process, pid int, cg *cgroup, io *stdio) error {
	if err := c.recordInit(st, pid, cg); err != nil {
		return err
	}
	st.ExternalDescriptors = nil
	for fd := 0; fd < 3; fd++ {
		link, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd))
		st.ExternalDescriptors = append(st.ExternalDescriptors, link)
	}
	if err := c.saveState(st); err != nil {
		return err
	}
	// criu restored init as our child (rst_sibling): it can be waited for.
	proc, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	run := &running{proc: proc}
	io.started(run)
	p.mu.Lock()
	p.run = run
	p.mu.Unlock()
	c.mu.Lock()
	c.initProc = p
	c.mu.Unlock()
	return nil
}
