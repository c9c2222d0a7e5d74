package libcontainer

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/internal/phase"
	"github.com/corral-oci/corral/libcontainer/apparmor"
	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/internal/bootstrap"
	"github.com/corral-oci/corral/libcontainer/internal/initsync"
	"github.com/corral-oci/corral/libcontainer/internal/procfs"
	"github.com/corral-oci/corral/libcontainer/internal/selfexe"
	"github.com/corral-oci/corral/libcontainer/label"
)

// child is the runtime's side of a re-executed child of this program that
// becomes a container's init or an exec'd process.
type child struct {
	proc  *Process
	setup *setup
	msg   bootstrap.Message

	sock      *os.File // our end of the conversation
	childSock *os.File
	// files are the child's fds after the Process's ExtraFiles; the
	// owned ones are closed here once the child has them.
	files []*os.File
	owned []bool
	io    *stdio
	// chownFiles go to the root of the child's user namespace.
	chownFiles []*os.File
	// exeFD is the child's fd of the runtime binary it execs.
	exeFD int

	// cgroupFD, when >= 0, makes the child born in its cgroup (clone3
	// with CLONE_INTO_CGROUP); joinCgroup adds it the older way.
	cgroupFD   int
	joinCgroup func(pid int) error
	// joinAfterExec, when set, adds the process to its cgroup only once
	// it has exec'd (a paused container's frozen cgroup).
	joinAfterExec func(pid int) error
	// beforeBootstrap runs while the child execs, before it is told
	// what to join; the bootstrap waits for it.
	beforeBootstrap func() error
	// placeChild runs once the child exists and before it is told to
	// go on, with its pid: for a cgroup that only another party can make
	// around a live process (a systemd scope).
	placeChild func(pid int) error
	// writeMaps writes the id maps of a new user namespace.
	writeMaps func(pid int) error
	// timeOffsets are those of a new time namespace, which the runtime
	// writes for the bootstrap (SyncTimens).
	timeOffsets string

	cmd *exec.Cmd
	// pid runs Go's init, or, once an exec'd process's setup cloned
	// it, the program; os is its handle.
	pid int
	os  *os.Process
}

func newChild(p *Process, s *setup) (*child, error) {
	// The LSMs are checked here, on the host: init and an exec's setup
	// see the container's /sys.
	if err := apparmor.Check(s.Process.AppArmorProfile); err != nil {
		return nil, err
	}
	if err := label.Check(s.Process.Label); err != nil {
		return nil, err
	}
	io, err := newStdio(p)
	if err != nil {
		return nil, fmt.Errorf("set up stdio: %w", err)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		io.closeAll()
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	ch := &child{
		proc:      p,
		setup:     s,
		sock:      os.NewFile(uintptr(fds[0]), "init-sync"),
		childSock: os.NewFile(uintptr(fds[1]), "init-sync-child"),
		io:        io,
		cgroupFD:  -1,
	}
	ch.addFile(ch.childSock)
	exe, err := selfexe.Open()
	if err != nil {
		ch.close()
		return nil, err
	}
	ch.exeFD = ch.addFile(exe)
	s.ExeFD = ch.exeFD
	return ch, nil
}

// addFile passes f, which the child's setup owns, to the child and returns
// its fd number there; f is closed here once the child has it.
func (ch *child) addFile(f *os.File) int {
	ch.owned = append(ch.owned, true)
	return ch.passFile(f)
}

// lendFile passes the caller's f to the child; it stays open here.
func (ch *child) lendFile(f *os.File) int {
	ch.owned = append(ch.owned, false)
	return ch.passFile(f)
}

func (ch *child) passFile(f *os.File) int {
	ch.files = append(ch.files, f)
	return 3 + len(ch.proc.ExtraFiles) + len(ch.files) - 1
}

// closeFiles closes the files the child's setup owns.
func (ch *child) closeFiles() {
	for i, f := range ch.files {
		if ch.owned[i] {
			f.Close()
		}
	}
	ch.files, ch.owned = nil, nil
}

// command builds the exec.Cmd of the child. Go 1.26 forbids reusing an
// exec.Cmd after Start, so a retry gets a fresh one from here.
func (ch *child) command() *exec.Cmd {
	cmd := &exec.Cmd{
		// The binary runs from a handle nothing in the container can
		// write through (CVE-2019-5736); init closes it before exec.
		Path: "/proc/self/fd/" + strconv.Itoa(ch.exeFD),
		Args: bootstrap.Args(os.Args[0], bootstrap.MarkBootstrap),
		Env: []string{
			bootstrap.EnvFD + "=" + strconv.Itoa(3+len(ch.proc.ExtraFiles)),
			bootstrap.EnvFDs + "=" + strconv.Itoa(3+len(ch.proc.ExtraFiles)+len(ch.files)),
			"GOMAXPROCS=1",
			// init lives only until it execs, and allocates little:
			// no collector.
			"GOGC=off",
			// The Go runtime would keep the host's cgroup files of the
			// CPU limit open to update GOMAXPROCS: init's fds are seen
			// from the container.
			"GODEBUG=containermaxprocs=0,updatemaxprocs=0",
		},
		SysProcAttr: &syscall.SysProcAttr{Pdeathsig: unix.SIGKILL},
	}
	// A nil *os.File in an io.Reader would not be a nil interface.
	if f := ch.io.child[0]; f != nil {
		cmd.Stdin = f
	}
	if f := ch.io.child[1]; f != nil {
		cmd.Stdout = f
	}
	if f := ch.io.child[2]; f != nil {
		cmd.Stderr = f
	}
	if phase.Enabled() {
		cmd.Env = append(cmd.Env, phase.Env+"="+phase.Path())
	}
	cmd.Env = append(cmd.Env, faultEnv()...)
	cmd.ExtraFiles = make([]*os.File, 0, len(ch.proc.ExtraFiles)+len(ch.files))
	cmd.ExtraFiles = append(cmd.ExtraFiles, ch.proc.ExtraFiles...)
	cmd.ExtraFiles = append(cmd.ExtraFiles, ch.files...)
	if ch.cgroupFD >= 0 {
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = ch.cgroupFD
	}
	return cmd
}

// start runs the child up to the point where Go's init knows its setup:
// it is in its cgroup and namespaces, and ch.pid is known.
func (ch *child) start() error {
	// Work the bootstrap must wait for runs while the child execs.
	var before chan error
	if ch.beforeBootstrap != nil {
		before = make(chan error, 1)
		go func() { before <- ch.beforeBootstrap() }()
	}
	cmd := ch.command()
	phase.Mark("spawn:fork")
	err := cmd.Start()
	if err != nil && ch.cgroupFD >= 0 {
		// The kernel cannot clone into this cgroup (no clone3, or a
		// cgroup it refuses): join it after the start.
		slog.Debug("clone3 into the cgroup failed; joining it after the start", "error", err)
		ch.cgroupFD = -1
		cmd = ch.command()
		err = cmd.Start()
	} else if err == nil && ch.cgroupFD >= 0 {
		slog.Debug("child born in its cgroup (clone3 CLONE_INTO_CGROUP)")
		ch.joinCgroup = nil
	}
	if err == nil && ch.joinCgroup != nil {
		slog.Debug("child joins its cgroup after the start")
	}
	var beforeErr error
	if before != nil {
		beforeErr = <-before
	}
	if err != nil {
		return fmt.Errorf("start init: %w", err)
	}
	ch.cmd = cmd
	phase.Mark("spawn:started")
	ch.childSock.Close()
	if beforeErr != nil {
		ch.kill()
		return beforeErr
	}
	if err := ch.afterStart(); err != nil {
		ch.kill()
		return err
	}
	return nil
}

func (ch *child) afterStart() error {
	pid := ch.cmd.Process.Pid
	if a := ch.setup.Process.CPUAffinity; a != nil && a.Initial != "" {
		if err := setAffinity(pid, a.Initial); err != nil {
			return fmt.Errorf("exec_cpu_affinity.initial: %w", err)
		}
	}
	if ch.placeChild != nil {
		if err := ch.placeChild(pid); err != nil {
			return err
		}
		phase.Mark("spawn:child-placed")
	}
	if adj := ch.setup.OomScoreAdj; adj != nil {
		// Written now, while the child waits for its bootstrap in the
		// runtime's user namespace: once it is in another, lowering
		// it would take a privilege it has only over its own. Every
		// process forked from it inherits the value.
		if err := procfs.WritePid(pid, "oom_score_adj", []byte(strconv.Itoa(*adj))); err != nil {
			return fmt.Errorf("oom_score_adj %d: %w", *adj, err)
		}
	}
	b, err := ch.msg.Encode()
	if err != nil {
		return err
	}
	if _, err := ch.sock.Write(b); err != nil {
		return ch.exitError("send bootstrap", err)
	}
	if err := ch.bootstrapSync(pid); err != nil {
		return err
	}
	phase.Mark("spawn:bootstrapped")
	if err := ch.chownToRoot(); err != nil {
		return err
	}
	if ch.msg.Fork {
		// The first child forked init and exits; reap it.
		st, err := ch.cmd.Process.Wait()
		if err != nil {
			return fmt.Errorf("wait for bootstrap: %w", err)
		}
		if !st.Success() {
			return fmt.Errorf("bootstrap: %s", st)
		}
		ch.os, err = os.FindProcess(ch.pid)
		if err != nil {
			return err
		}
	} else {
		ch.os = ch.cmd.Process
	}
	if ch.joinCgroup != nil {
		if err := ch.joinCgroup(ch.pid); err != nil {
			return err
		}
		phase.Mark("spawn:cgroup-joined")
	}
	return nil
}

// chownToRoot gives what the child must open as itself (stdio pipes, the
// exec fifo) to the root of its user namespace, now that it is in it:
// a namespace joined by path has mappings only the kernel knows.
func (ch *child) chownToRoot() error {
	if !ch.setup.UserNS {
		return nil
	}
	uid, gid, err := hostRootIDs(ch.cmd.Process.Pid)
	if err != nil {
		return err
	}
	ch.io.chown(uid, gid)
	for _, f := range ch.chownFiles {
		if err := unix.Fchownat(int(f.Fd()), "", uid, gid, unix.AT_EMPTY_PATH); err != nil {
			return fmt.Errorf("chown %s: %w", f.Name(), err)
		}
	}
	return nil
}

// hostRootIDs returns the host uid and gid of root in pid's user
// namespace, -1 where root is not mapped.
func hostRootIDs(pid int) (uid, gid int, err error) {
	uid, gid = -1, -1
	for _, m := range []struct {
		file string
		id   *int
	}{{"uid_map", &uid}, {"gid_map", &gid}} {
		b, err := procfs.ReadPid(pid, m.file)
		if err != nil {
			return -1, -1, fmt.Errorf("read id map of init: %w", err)
		}
		*m.id = rootID(b)
	}
	return uid, gid, nil
}

// rootID returns the host id that idMap, the text of a uid_map or
// gid_map, maps id 0 to, or -1.
func rootID(idMap []byte) int {
	id := -1
	for _, line := range strings.Split(string(idMap), "\n") {
		var inside, outside, size int64
		if n, _ := fmt.Sscan(line, &inside, &outside, &size); n == 3 && inside == 0 && size > 0 {
			id = int(outside)
		}
	}
	return id
}

// bootstrapSync answers the C bootstrap until it reports the pid of init.
func (ch *child) bootstrapSync(pid int) error {
	for {
		typ, val, err := bootstrap.ReadSync(ch.sock)
		if err != nil {
			return ch.exitError("bootstrap", err)
		}
		switch typ {
		case bootstrap.SyncUsermap:
			if ch.writeMaps == nil {
				return errors.New("bootstrap asked for id maps of no user namespace")
			}
			if err := ch.writeMaps(pid); err != nil {
				return err
			}
			if err := bootstrap.WriteSync(ch.sock, bootstrap.SyncUsermapAck, 0); err != nil {
				return ch.exitError("bootstrap", err)
			}
		case bootstrap.SyncTimens:
			if err := procfs.WritePid(pid, "timens_offsets", []byte(ch.timeOffsets)); err != nil {
				return fmt.Errorf("time namespace offsets %q: %w", strings.TrimSpace(ch.timeOffsets), err)
			}
			if err := bootstrap.WriteSync(ch.sock, bootstrap.SyncTimensAck, 0); err != nil {
				return ch.exitError("bootstrap", err)
			}
		case bootstrap.SyncPid:
			ch.pid = int(val)
			return nil
		default:
			return fmt.Errorf("bootstrap: unexpected message %d", typ)
		}
	}
}

// sendSetup closes our copies of the child's files and sends the setup.
func (ch *child) sendSetup() error {
	ch.closeFiles()
	ch.setup.encodeConfig()
	if err := initsync.Send(ch.sock, initsync.Config, ch.setup); err != nil {
		return ch.exitError("send setup", err)
	}
	return nil
}

// exitError explains a broken conversation: usually the child died, and
// its exit status says more than the broken pipe.
func (ch *child) exitError(step string, err error) error {
	var ie *initsync.InitError
	if errors.As(err, &ie) || errors.Is(err, bootstrap.ErrBootstrap) {
		return err
	}
	if errors.Is(err, io.EOF) || errors.Is(err, unix.EPIPE) || errors.Is(err, unix.ECONNRESET) {
		if st := ch.reap(); st != "" {
			return fmt.Errorf("%s: child exited (%s) before finishing its setup", step, st)
		}
		return fmt.Errorf("%s: child exited before finishing its setup", step)
	}
	return fmt.Errorf("%s: %w", step, err)
}

// reap collects the exit status of whichever process died.
func (ch *child) reap() string {
	p := ch.os
	if p == nil && ch.cmd != nil {
		p = ch.cmd.Process
	}
	if p == nil {
		return ""
	}
	st, err := p.Wait()
	if err != nil {
		return ""
	}
	return describeExit(st)
}

// kill stops the child and everything it forked, and reaps them.
func (ch *child) kill() {
	if ch.os != nil {
		ch.os.Kill()
		ch.os.Wait()
	}
	if ch.cmd != nil && ch.cmd.Process != nil && ch.cmd.Process != ch.os {
		ch.cmd.Process.Kill()
		ch.cmd.Process.Wait()
	}
	ch.close()
}

func (ch *child) close() {
	ch.sock.Close()
	ch.closeFiles()
	ch.io.closeAll()
}

func describeExit(st *os.ProcessState) string {
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "killed by " + unix.SignalName(ws.Signal())
	}
	return "exit status " + strconv.Itoa(st.ExitCode())
}

// openNamespace opens a namespace file and checks it is a namespace of
// type t, so a path swapped after validation cannot put the container in
// the wrong kind of namespace.
func openNamespace(path string, t configs.NamespaceType) (*os.File, error) {
	f, err := os.OpenFile(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s namespace %s: %w", strings.ToLower(t.File()), path, err)
	}
	got, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_NSTYPE)
	if err != nil || uint32(got) != t.CloneFlag() {
		f.Close()
		return nil, fmt.Errorf("%s is not a %s namespace", path, t.File())
	}
	return f, nil
}
