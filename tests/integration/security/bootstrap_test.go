package security

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The bootstrap wire format (libcontainer/nsenter/bootstrap.h): written
// out here rather than imported, since the point is to send what the
// runtime's encoder never would.
const (
	bsMagic     = 0x31524c43
	bsMax       = 65536
	recUnshare  = 1
	recJoin     = 2
	recTimens   = 3
	recFork     = 4
	recRoot     = 5
	syncUsermap = 1
	syncPid     = 3
	syncError   = 4
)

var ne = binary.NativeEndian

type record struct {
	typ uint16
	val []byte
}

// message encodes records behind a header that tells the truth.
func message(recs ...record) []byte {
	b := make([]byte, 8)
	for _, r := range recs {
		b = ne.AppendUint16(b, r.typ)
		b = ne.AppendUint16(b, uint16(len(r.val)))
		b = append(b, r.val...)
	}
	ne.PutUint32(b[0:], bsMagic)
	ne.PutUint32(b[4:], uint32(len(b)))
	return b
}

// withLength returns b with its header's length replaced.
func withLength(b []byte, n uint32) []byte {
	b = append([]byte(nil), b...)
	ne.PutUint32(b[4:], n)
	return b
}

func u32(v uint32) []byte { return ne.AppendUint32(nil, v) }

func join(nstype uint32, fd int32) record {
	return record{recJoin, ne.AppendUint32(u32(nstype), uint32(fd))}
}

// bootstrapResult is what a child did with a message.
type bootstrapResult struct {
	msgs   []string // "pid N", "usermap", "error: text"
	errors []string
	status string // "exit N", "signal S" or "hung"
	stderr string
}

func (r bootstrapResult) String() string {
	stderr := r.stderr
	if len(stderr) > 200 {
		stderr = stderr[:200] + "..."
	}
	return fmt.Sprintf("%s, messages %q, stderr %q", r.status, r.msgs, stderr)
}

// runBootstrap starts this binary as the runtime's init with env (the
// bootstrap fd variable) and one end of a socketpair as fd 3, sends msg on the other
// end and shuts it for writing, so that a child reading more than was
// sent gets EOF rather than waiting for ever, and collects the child's
// answers and exit.
func runBootstrap(t *testing.T, msg []byte, env string) bootstrapResult {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Non-blocking, so that os.File gives read deadlines.
	unix.SetNonblock(fds[0], true)
	parent, child := os.NewFile(uintptr(fds[0]), "parent"), os.NewFile(uintptr(fds[1]), "child")
	defer parent.Close()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// The arguments the runtime gives its child (internal/bootstrap.Args):
	// without them the constructor ignores the variable.
	cmd := exec.CommandContext(ctx, exe, "init", "--corral-bootstrap")
	cmd.Env = []string{env, "_CORRAL_BOOTSTRAP_FDS=4"}
	cmd.ExtraFiles = []*os.File{child}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	child.Close()
	parent.Write(msg) // the child may be gone already
	unix.Shutdown(fds[0], unix.SHUT_WR)

	var res bootstrapResult
	parent.SetReadDeadline(time.Now().Add(5 * time.Second))
	var in bytes.Buffer
	buf := make([]byte, 4096)
	for {
		n, err := parent.Read(buf)
		in.Write(buf[:n])
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				res.status = "hung"
			}
			break
		}
	}
	grandchild := 0
	for b := in.Bytes(); len(b) >= 8; {
		typ, val := ne.Uint32(b), int32(ne.Uint32(b[4:]))
		b = b[8:]
		switch typ {
		case syncError:
			if val < 0 || int(val) > len(b) {
				res.msgs = append(res.msgs, fmt.Sprintf("bad error length %d", val))
				b = nil
				continue
			}
			res.errors = append(res.errors, string(b[:val]))
			res.msgs = append(res.msgs, "error: "+string(b[:val]))
			b = b[val:]
		case syncPid:
			res.msgs = append(res.msgs, fmt.Sprintf("pid %d", val))
			if int(val) != cmd.Process.Pid {
				grandchild = int(val)
			}
		case syncUsermap:
			res.msgs = append(res.msgs, "usermap")
		default:
			res.msgs = append(res.msgs, fmt.Sprintf("unknown %d", typ))
		}
	}
	// A non-zero exit is an error here too; the state says what it was.
	werr := cmd.Wait()
	switch {
	case ctx.Err() != nil:
		res.status = "hung"
	case cmd.ProcessState == nil:
		res.status = "wait: " + werr.Error()
	case res.status == "":
		res.status = describe(cmd.ProcessState)
	}
	// A fork record makes a grandchild that is our child (CLONE_PARENT)
	// and that goes on while the first child exits 0 by design: the
	// grandchild's end is the outcome.
	if grandchild > 0 && res.status == "exit 0" {
		if st := reap(grandchild); st != "" {
			res.status = st
		}
	}
	res.stderr = stderr.String()
	return res
}

func describe(st *os.ProcessState) string {
	ws := st.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return "signal " + ws.Signal().String()
	}
	return fmt.Sprintf("exit %d", ws.ExitStatus())
}

// reap waits up to 5 s for a child the bootstrap forked.
func reap(pid int) string {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		var ws unix.WaitStatus
		got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		if err != nil {
			return "" // not ours
		}
		if got == pid {
			if ws.Signaled() {
				return "signal " + ws.Signal().String()
			}
			return fmt.Sprintf("exit %d", ws.ExitStatus())
		}
		time.Sleep(5 * time.Millisecond)
	}
	unix.Kill(pid, unix.SIGKILL)
	unix.Wait4(pid, nil, 0, nil)
	return "hung"
}

// TestCVE_2021_43784_MalformedBootstrap: CVE-2021-43784 (runc's netlink
// bootstrap message trusted a length, so an attacker-supplied value, a
// bind mount source, overflowed into the next attribute). corral's
// bootstrap is a length-prefixed record stream; every wrong length or
// shape must make the child exit with status 1 after a SYNC_ERROR that
// names the problem: never a signal, never a hang, never a child that
// goes on.
func TestCVE_2021_43784_MalformedBootstrap(t *testing.T) {
	good := message(record{recUnshare, u32(unix.CLONE_NEWUTS)})
	joinMsg := message(join(unix.CLONE_NEWNET, 3))
	var tooMany []record
	for i := 0; i < 17; i++ {
		tooMany = append(tooMany, join(unix.CLONE_NEWNET, 3))
	}
	for _, tt := range []struct {
		name string
		msg  []byte
		want string
	}{
		{"empty", nil, "read bootstrap header"},
		{"shorter than the header", u32(bsMagic), "read bootstrap header"},
		{"length 0", withLength(message(), 0), "out of range"},
		{"length below the header", withLength(message(), 4), "out of range"},
		{"length larger than sent", withLength(good, uint32(len(good)+16)), "read bootstrap message"},
		{"length cuts a record's value", withLength(joinMsg, 8+6), "runs past the end"},
		{"length cuts a record header", withLength(joinMsg, 8+2), "truncated record header"},
		{"length over 64KiB", withLength(good, bsMax+1), "out of range"},
		{"length 4GiB-1", withLength(good, 0xffffffff), "out of range"},
		{"64KiB of records then one byte more", withLength(append(message(record{recTimens, make([]byte, 65535-12)}), 0), bsMax+1), "out of range"},
		{"bad magic", append(u32(0xdeadbeef), good[4:]...), "bad magic"},
		{"byte-swapped magic", append(binary.BigEndian.AppendUint32(nil, bsMagic), good[4:]...), "bad magic"},
		{"trailing partial record header", withLength(append(good, 1, 0), uint32(len(good)+2)), "truncated record header"},
		{"record longer than the message", withLength(append(message(), 1, 0, 100, 0, 1, 2, 3, 4), 16), "runs past the end"},
		{"record length 0xffff", withLength(append(message(), 2, 0, 0xff, 0xff), 12), "runs past the end"},
		{"unshare of 3 bytes", message(record{recUnshare, []byte{1, 2, 3}}), "unshare record of 3 bytes"},
		{"unshare of 8 bytes", message(record{recUnshare, make([]byte, 8)}), "unshare record of 8 bytes"},
		{"join of 4 bytes", message(record{recJoin, u32(unix.CLONE_NEWNET)}), "join record of 4 bytes"},
		{"join of 12 bytes", message(record{recJoin, make([]byte, 12)}), "join record of 12 bytes"},
		{"join of 0 bytes", message(record{recJoin, nil}), "join record of 0 bytes"},
		{"negative fd", message(join(unix.CLONE_NEWNET, -1)), "negative namespace fd -1"},
		{"fd INT_MIN", message(join(unix.CLONE_NEWNET, -1<<31)), "negative namespace fd"},
		{"17 joins", message(tooMany...), "more than 16"},
		{"join of a socket", message(join(unix.CLONE_NEWNET, 3)), "join net namespace"},
		{"join of a closed fd", message(join(unix.CLONE_NEWUSER, 999)), "join user namespace"},
		{"join of an unknown type", message(join(0x1234, 3)), "join unknown namespace"},
		{"time offsets as text", message(record{recTimens, []byte("monotonic 1 0\n")}), "flag record 3"},
		{"time offsets flag 2", message(record{recTimens, []byte{2}}), "flag record 3"},
		{"time offsets outside a new time namespace", message(record{recTimens, []byte{1}}), "without a new time namespace"},
		{"unknown record type 0", message(record{0, nil}), "unknown record type 0"},
		{"unknown record type 99", message(record{99, []byte{1}}), "unknown record type 99"},
		{"fork flag 2", message(record{recFork, []byte{2}}), "flag record 4"},
		{"root flag 255", message(record{recRoot, []byte{255}}), "flag record 5"},
		{"flag of 2 bytes", message(record{recFork, []byte{1, 0}}), "flag record 4"},
		{"flag of 0 bytes", message(record{recRoot, nil}), "flag record 5"},
		{"unshare of non-namespace flags", message(record{recUnshare, u32(0x1)}), "create namespaces"},
		{"user namespace with no one to map it", message(record{recUnshare, u32(unix.CLONE_NEWUSER)}), "id mappings"},
		// The runtime always forks into a new pid namespace: without the
		// fork the process may not make threads, and Go aborts.
		{"pid namespace without fork", message(record{recUnshare, u32(unix.CLONE_NEWPID)}), "pid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := runBootstrap(t, tt.msg, "_CORRAL_BOOTSTRAP=3")
			if res.status != "exit 1" {
				t.Errorf("child: %s", res)
			}
			if len(res.errors) != 1 || !strings.Contains(res.errors[0], tt.want) {
				t.Errorf("want one SYNC_ERROR naming %q; got %s", tt.want, res)
			}
			for _, m := range res.msgs {
				if strings.HasPrefix(m, "pid") {
					t.Errorf("the child went on to run Go after a malformed message: %s", res)
				}
			}
		})
	}
}

// TestCVE_2021_43784_BadBootstrapFD: the fd variable itself is input; a
// value that is not a descriptor, or one that is not open, ends the child
// with status 1 and a message, without a signal.
func TestCVE_2021_43784_BadBootstrapFD(t *testing.T) {
	for _, v := range []string{"", "abc", "2", "-5", "3x", "0x3", "99999999999", "1048577"} {
		res := runBootstrap(t, message(), "_CORRAL_BOOTSTRAP="+v)
		if res.status != "exit 1" || !strings.Contains(res.stderr, "not a file descriptor") {
			t.Errorf("_CORRAL_BOOTSTRAP=%q: %s", v, res)
		}
	}
	// An fd that is not open: the error cannot be sent, but the child
	// must still just exit.
	if res := runBootstrap(t, message(), "_CORRAL_BOOTSTRAP=50"); res.status != "exit 1" {
		t.Errorf("_CORRAL_BOOTSTRAP=50 (not open): %s", res)
	}
}

// TestCVE_2021_43784_RandomBootstrap sends random messages to real
// children: random bytes, and well-framed messages of random records of
// the known types with random values (these may parse and go on into Go's
// init, which then fails for want of a setup). No child may die of a
// signal or hang, and none may exit 0.
func TestCVE_2021_43784_RandomBootstrap(t *testing.T) {
	// CORRAL_BOOTSTRAP_SEED replays a run.
	seed := time.Now().UnixNano()
	if v := os.Getenv("CORRAL_BOOTSTRAP_SEED"); v != "" {
		fmt.Sscan(v, &seed)
	}
	t.Logf("seed %d (CORRAL_BOOTSTRAP_SEED)", seed)
	rng := rand.New(rand.NewSource(seed))
	var msgs [][]byte
	for i := 0; i < 200; i++ {
		b := make([]byte, rng.Intn(300))
		rng.Read(b)
		if i%2 == 0 && len(b) >= 8 {
			// Past the magic check: the length and records are random.
			ne.PutUint32(b, bsMagic)
		}
		msgs = append(msgs, b)
	}
	for i := 0; i < 200; i++ {
		var recs []record
		for n := rng.Intn(6); n > 0; n-- {
			switch typ := uint16(1 + rng.Intn(5)); typ {
			case recUnshare:
				// Mostly namespace flags, so that some unshares work.
				v := rng.Uint32()
				if rng.Intn(3) > 0 {
					v &= unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET | unix.CLONE_NEWPID | unix.CLONE_NEWUSER | unix.CLONE_NEWCGROUP
				}
				recs = append(recs, record{typ, u32(v)})
			case recJoin:
				recs = append(recs, join(1<<uint(rng.Intn(32)), int32(rng.Intn(8))-1))
			case recTimens:
				b := make([]byte, rng.Intn(40))
				for j := range b {
					b[j] = "monotic bo 0123456789-\n"[rng.Intn(23)]
				}
				recs = append(recs, record{typ, b})
			default:
				recs = append(recs, record{typ, []byte{byte(rng.Intn(2))}})
			}
		}
		msgs = append(msgs, message(recs...))
	}
	var (
		mu     sync.Mutex
		counts = map[string]int{}
		wg     sync.WaitGroup
		sem    = make(chan struct{}, 8)
	)
	for _, m := range msgs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res := runBootstrap(t, m, "_CORRAL_BOOTSTRAP=3")
			mu.Lock()
			counts[res.status]++
			mu.Unlock()
			if res.status != "exit 1" {
				t.Errorf("message %x: %s", m, res)
			}
		}()
	}
	wg.Wait()
	t.Logf("outcomes: %v", counts)
}
