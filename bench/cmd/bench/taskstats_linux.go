package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// taskstats listens to the kernel's per-task exit records (genetlink
// family TASKSTATS). They are how we learn the peak RSS of a runtime
// process itself: wait4's ru_maxrss is getrusage(RUSAGE_BOTH) of the child,
// so it also holds the peak of every descendant the runtime reaped (for
// runc and corral, the re-executed init before it exec'd), while an exit
// record carries hiwater_rss of the task's own mm, taken in do_exit before
// the mm is dropped. For a program that exec'd (crun-hybrid: unshare, sh,
// then crun in the same pid) it is the last image's mm: crun's.
type taskstats struct {
	fd     int
	family uint16
	buf    []byte
	// peak is the highest hiwater_rss (KiB) seen per thread group since
	// the last reset: every thread of a Go program sends a record, all
	// for the same mm.
	peak map[int]uint64
}

func openTaskstats() (*taskstats, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
	if err != nil {
		return nil, err
	}
	t := &taskstats{fd: fd, buf: make([]byte, 1<<16), peak: map[int]uint64{}}
	if err := t.init(); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("taskstats: %w", err)
	}
	return t, nil
}

func (t *taskstats) init() error {
	if err := unix.Bind(t.fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	// Every exit on the machine lands here while we are not reading (the
	// timed runs); a large buffer makes overflow rare, and an overflow
	// only costs the records of that moment, which reset() discards.
	_ = unix.SetsockoptInt(t.fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20)

	// Resolve the family id of "TASKSTATS".
	name := append([]byte(unix.TASKSTATS_GENL_NAME), 0)
	if err := t.send(unix.GENL_ID_CTRL, unix.CTRL_CMD_GETFAMILY, unix.CTRL_ATTR_FAMILY_NAME, name); err != nil {
		return err
	}
	n, err := t.recv(0)
	if err != nil {
		return err
	}
	msgs, err := syscall.ParseNetlinkMessage(t.buf[:n])
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if err := nlError(m); err != nil {
			return fmt.Errorf("get family: %w", err)
		}
		if len(m.Data) < sizeofGenlmsghdr {
			continue
		}
		for _, a := range parseAttrs(m.Data[sizeofGenlmsghdr:]) {
			if a.typ == unix.CTRL_ATTR_FAMILY_ID && len(a.data) >= 2 {
				t.family = binary.NativeEndian.Uint16(a.data)
			}
		}
	}
	if t.family == 0 {
		return errors.New("no TASKSTATS genetlink family")
	}
	// Ask for the exit records of every cpu.
	mask := fmt.Sprintf("0-%d", runtime.NumCPU()-1)
	if b, err := os.ReadFile("/sys/devices/system/cpu/possible"); err == nil && len(b) > 1 {
		mask = string(b[:len(b)-1])
	}
	if err := t.send(t.family, unix.TASKSTATS_CMD_GET, unix.TASKSTATS_CMD_ATTR_REGISTER_CPUMASK, append([]byte(mask), 0)); err != nil {
		return err
	}
	return nil
}

func (t *taskstats) close() { unix.Close(t.fd) }

func nlError(m syscall.NetlinkMessage) error {
	if m.Header.Type != unix.NLMSG_ERROR || len(m.Data) < 4 {
		return nil
	}
	if errno := -int32(binary.NativeEndian.Uint32(m.Data)); errno != 0 {
		return unix.Errno(errno)
	}
	return nil
}

// send sends one genetlink request carrying a single attribute.
func (t *taskstats) send(family uint16, cmd uint8, attr uint16, val []byte) error {
	alen := unix.SizeofNlAttr + len(val)
	total := unix.SizeofNlMsghdr + sizeofGenlmsghdr + nlaAlign(alen)
	b := make([]byte, total)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(total))
	ne.PutUint16(b[4:], family)
	ne.PutUint16(b[6:], unix.NLM_F_REQUEST)
	ne.PutUint32(b[8:], 1)
	b[16] = cmd
	b[17] = 1 // genetlink version
	ne.PutUint16(b[20:], uint16(alen))
	ne.PutUint16(b[22:], attr)
	copy(b[24:], val)
	return unix.Sendto(t.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
}

func (t *taskstats) recv(flags int) (int, error) {
	for {
		n, _, err := unix.Recvfrom(t.fd, t.buf, flags)
		if err == unix.EINTR {
			continue
		}
		return n, err
	}
}

// reset drops what is queued and what was collected, so that the next
// collect sees only the exits that follow.
func (t *taskstats) reset() {
	t.drain(false)
	clear(t.peak)
}

// peakRSS returns the peak RSS in KiB of thread group pid, which must have
// been reaped already: the kernel queues a task's exit record before the
// task can be waited for, so everything we need is in the socket by now.
func (t *taskstats) peakRSS(pid int) (uint64, bool) {
	t.drain(true)
	kib, ok := t.peak[pid]
	return kib, ok
}

func (t *taskstats) drain(keep bool) {
	for {
		n, err := t.recv(unix.MSG_DONTWAIT)
		if err == unix.ENOBUFS {
			// Records were lost while nobody read; go on with what follows.
			continue
		}
		if err != nil || n == 0 {
			return
		}
		if keep {
			t.parse(t.buf[:n])
		}
	}
}

func (t *taskstats) parse(b []byte) {
	msgs, err := syscall.ParseNetlinkMessage(b)
	if err != nil {
		return
	}
	for _, m := range msgs {
		if m.Header.Type != t.family || len(m.Data) < sizeofGenlmsghdr {
			continue
		}
		for _, a := range parseAttrs(m.Data[sizeofGenlmsghdr:]) {
			// AGGR_PID is the record of the exiting thread; AGGR_TGID,
			// sent with the last thread of a group, holds only sums.
			if a.typ != unix.TASKSTATS_TYPE_AGGR_PID {
				continue
			}
			for _, in := range parseAttrs(a.data) {
				if in.typ != unix.TASKSTATS_TYPE_STATS {
					continue
				}
				var ts unix.Taskstats
				n := copy(unsafe.Slice((*byte)(unsafe.Pointer(&ts)), unsafe.Sizeof(ts)), in.data)
				tgid := int(ts.Ac_pid)
				// ac_tgid came with version 12 (Linux 5.19); before it,
				// only the main thread's record (pid == tgid) is matched.
				if uintptr(n) >= unsafe.Offsetof(ts.Ac_tgid)+4 && ts.Ac_tgid != 0 {
					tgid = int(ts.Ac_tgid)
				}
				if ts.Hiwater_rss > t.peak[tgid] {
					t.peak[tgid] = ts.Hiwater_rss
				}
			}
		}
	}
}

// sizeofGenlmsghdr is struct genlmsghdr: cmd, version and a reserved u16.
const sizeofGenlmsghdr = 4

type nlattr struct {
	typ  uint16
	data []byte
}

func nlaAlign(n int) int { return (n + unix.NLA_ALIGNTO - 1) &^ (unix.NLA_ALIGNTO - 1) }

func parseAttrs(b []byte) []nlattr {
	var out []nlattr
	for len(b) >= unix.SizeofNlAttr {
		l := int(binary.NativeEndian.Uint16(b))
		typ := binary.NativeEndian.Uint16(b[2:]) &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER)
		if l < unix.SizeofNlAttr || l > len(b) {
			break
		}
		out = append(out, nlattr{typ: typ, data: b[unix.SizeofNlAttr:l]})
		if nlaAlign(l) >= len(b) {
			break
		}
		b = b[nlaAlign(l):]
	}
	return out
}
