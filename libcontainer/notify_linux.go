package libcontainer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// NotifyOOM returns a channel that receives a value each time a process
// of the container is killed for lack of memory. It is closed when the
// container's cgroup goes away.
func (c *Container) NotifyOOM() (<-chan struct{}, error) {
	dir, v2, err := c.memoryCgroup()
	if err != nil {
		return nil, err
	}
	if v2 {
		return notifyOOMv2(dir)
	}
	return notifyEventfd(dir, "memory.oom_control", "")
}

// NotifyMemoryPressure returns a channel that receives a value each time
// the container's memory pressure reaches level. It is closed when the
// container's cgroup goes away.
func (c *Container) NotifyMemoryPressure(level PressureLevel) (<-chan struct{}, error) {
	dir, v2, err := c.memoryCgroup()
	if err != nil {
		return nil, err
	}
	names := map[PressureLevel]string{LowPressure: "low", MediumPressure: "medium", CriticalPressure: "critical"}
	name, ok := names[level]
	if !ok {
		return nil, fmt.Errorf("unknown memory pressure level %d", level)
	}
	if v2 {
		return notifyPSI(dir, level)
	}
	return notifyEventfd(dir, "memory.pressure_level", name)
}

// memoryCgroup returns the container's memory cgroup directory, and
// whether it is on the unified (v2) hierarchy.
func (c *Container) memoryCgroup() (string, bool, error) {
	st, err := c.State()
	if err != nil {
		return "", false, err
	}
	if dir, ok := st.CgroupPaths["memory"]; ok {
		return dir, false, nil
	}
	if dir, ok := st.CgroupPaths[""]; ok && len(st.CgroupPaths) == 1 {
		return dir, true, nil
	}
	return "", false, fmt.Errorf("container %q has no memory cgroup", c.id)
}

// notifyEventfd registers an eventfd for a cgroup v1 memory event through
// cgroup.event_control. The kernel also signals the eventfd when the
// cgroup is removed, which closes the channel.
func notifyEventfd(dir, file, arg string) (<-chan struct{}, error) {
	target, err := os.Open(filepath.Join(dir, file))
	if err != nil {
		return nil, err
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		target.Close()
		return nil, err
	}
	line := strconv.Itoa(efd) + " " + strconv.Itoa(int(target.Fd()))
	if arg != "" {
		line += " " + arg
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.event_control"), []byte(line), 0o700); err != nil {
		target.Close()
		unix.Close(efd)
		return nil, fmt.Errorf("register %s event: %w", file, err)
	}
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		defer unix.Close(efd)
		defer target.Close()
		buf := make([]byte, 8)
		for {
			if _, err := unix.Read(efd, buf); err != nil {
				if err == unix.EINTR {
					continue
				}
				return
			}
			if _, err := os.Lstat(filepath.Join(dir, "cgroup.event_control")); err != nil {
				return // the cgroup is gone
			}
			for n := binary.NativeEndian.Uint64(buf); n > 0; n-- {
				ch <- struct{}{}
			}
		}
	}()
	return ch, nil
}

// notifyOOMv2 watches memory.events for a growing oom_kill count.
func notifyOOMv2(dir string) (<-chan struct{}, error) {
	path := filepath.Join(dir, "memory.events")
	ifd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if _, err := unix.InotifyAddWatch(ifd, path, unix.IN_MODIFY); err != nil {
		unix.Close(ifd)
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	last, err := oomKills(path)
	if err != nil {
		unix.Close(ifd)
		return nil, err
	}
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		defer unix.Close(ifd)
		buf := make([]byte, unix.SizeofInotifyEvent+unix.PathMax+1)
		for {
			n, err := unix.Read(ifd, buf)
			if err == unix.EINTR {
				continue
			}
			if err != nil || n < unix.SizeofInotifyEvent {
				return
			}
			mask := binary.NativeEndian.Uint32(buf[4:8])
			if mask&(unix.IN_IGNORED|unix.IN_DELETE_SELF) != 0 {
				return
			}
			now, err := oomKills(path)
			if err != nil {
				return
			}
			for ; last < now; last++ {
				ch <- struct{}{}
			}
		}
	}()
	return ch, nil
}

// oomKills reads the oom_kill count of a memory.events file.
func oomKills(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("oom_kill ")); ok {
			return strconv.ParseUint(string(v), 10, 64)
		}
	}
	return 0, errors.New("no oom_kill in " + path)
}

// notifyPSI sets a pressure stall trigger on memory.pressure: a stall of
// at least the level's share of each second, as poll(2) POLLPRI events.
func notifyPSI(dir string, level PressureLevel) (<-chan struct{}, error) {
	// Thresholds per second of stall: low 5%, medium 20%, critical 50%.
	stall := map[PressureLevel]int{LowPressure: 50000, MediumPressure: 200000, CriticalPressure: 500000}[level]
	f, err := os.OpenFile(filepath.Join(dir, "memory.pressure"), os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	if _, err := fmt.Fprintf(f, "some %d 1000000", stall); err != nil {
		f.Close()
		return nil, fmt.Errorf("set memory pressure trigger: %w", err)
	}
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		defer f.Close()
		fds := []unix.PollFd{{Fd: int32(f.Fd()), Events: unix.POLLPRI}}
		for {
			if _, err := unix.Poll(fds, -1); err != nil {
				if err == unix.EINTR {
					continue
				}
				return
			}
			if fds[0].Revents&unix.POLLERR != 0 {
				return // the cgroup is gone
			}
			if fds[0].Revents&unix.POLLPRI != 0 {
				ch <- struct{}{}
			}
		}
	}()
	return ch, nil
}
