//go:build linux && cgo

package seccomp

import (
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// agentConn accepts the helper's connection on l and returns the state
// and the fd it sent, as a seccomp agent receives them.
func agentConn(t *testing.T, l *net.UnixListener) (*specs.ContainerProcessState, int) {
	t.Helper()
	if err := l.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	conn, err := l.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control messages %v: %v", msgs, err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("fds %v: %v", fds, err)
	}
	t.Cleanup(func() { unix.Close(fds[0]) })
	var st specs.ContainerProcessState
	if err := json.Unmarshal(append(buf[:n], rest...), &st); err != nil {
		t.Fatal(err)
	}
	return &st, fds[0]
}

// A NOTIFY filter hands its listener to an agent, which answers the
// notified syscalls: one with a value, one with an errno.
func TestNotify(t *testing.T) {
	for name, flags := range map[string][]specs.LinuxSeccompFlag{
		"plain": nil,
		// TSYNC needs TSYNC_ESRCH next to a listener; Compile adds it.
		"tsync wait-killable": {FlagTSync, specs.LinuxSeccompFlagWaitKillableRecv},
	} {
		t.Run(name, func(t *testing.T) {
			sock := filepath.Join(t.TempDir(), "agent.sock")
			l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			calls := []call{sys(unix.SYS_GETPPID), sys(unix.SYS_GETUID), sys(unix.SYS_GETPID)}
			h := startHelper(t, helperSpec{
				Profile: &configs.Seccomp{
					DefaultAction: configs.Allow,
					Flags:         flags,
					ListenerPath:  sock,
					Syscalls: []*configs.Syscall{
						{Name: "getppid", Action: configs.Notify},
						{Name: "getuid", Action: configs.Notify},
					},
				},
				Listener: sock,
				Calls:    calls,
			})

			st, fd := agentConn(t, l)
			pid := h.cmd.Process.Pid
			if st.Version != specs.Version || !slices.Equal(st.Fds, []string{specs.SeccompFdName}) ||
				st.Pid != pid || st.Metadata != "helper-metadata" || st.State.ID != "helper" {
				t.Errorf("container process state %+v", st)
			}
			for range 2 {
				req, err := libseccomp.NotifReceive(libseccomp.ScmpFd(fd))
				if err != nil {
					t.Fatalf("receive: %v; helper stderr:\n%s", err, h.stderr.String())
				}
				if req.Pid != uint32(pid) {
					t.Errorf("notification from pid %d, want %d", req.Pid, pid)
				}
				resp := &libseccomp.ScmpNotifResp{ID: req.ID}
				switch uintptr(req.Data.Syscall) {
				case unix.SYS_GETPPID:
					resp.Val = 4242
				case unix.SYS_GETUID:
					resp.Error = int32(unix.EXDEV)
				default:
					t.Fatalf("notified of syscall %d", req.Data.Syscall)
				}
				if err := libseccomp.NotifRespond(libseccomp.ScmpFd(fd), resp); err != nil {
					t.Fatal(err)
				}
			}
			res, ps := h.wait()
			if !ps.Success() || len(res) != len(calls) {
				t.Fatalf("helper: %v; stderr:\n%s", ps, h.stderr.String())
			}
			checkResults(t, calls, res, []result{{4242, 0}, {0, unix.EXDEV}, {uint64(pid), 0}})
		})
	}
}

func TestSendListenerFdErrors(t *testing.T) {
	st := &specs.ContainerProcessState{}
	if err := SendListenerFd(filepath.Join(t.TempDir(), "none"), 0, st); err == nil {
		t.Error("no listener: no error")
	}
	if err := SendListenerFd("/", 0, nil); err == nil {
		t.Error("nil state: no error")
	}
	if err := SendListenerFd("/", -1, st); err == nil {
		t.Error("bad fd: no error")
	}
}

// A listener receives the state whole even when it is larger than one
// read: the fd comes with the first part.
func TestSendListenerFdLarge(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f, err := os.Open("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	meta := string(make([]byte, 1<<18))
	errc := make(chan error, 1)
	go func() {
		errc <- SendListenerFd(sock, int(f.Fd()), &specs.ContainerProcessState{Version: "1.0.0", Metadata: meta})
	}()
	st, _ := agentConn(t, l)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if st.Version != "1.0.0" || st.Metadata != meta {
		t.Errorf("state: version %q, metadata of %d bytes", st.Version, len(st.Metadata))
	}
}
