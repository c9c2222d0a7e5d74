// Command syscaller runs inside the containers of the security tests. It
// is built static (CGO_ENABLED=0) into a copy of the busybox rootfs, so it
// needs nothing from the image, and it makes exactly the system calls a
// test asks for, which busybox cannot:
//
//	syscaller raw NR            syscall NR with zero arguments
//	syscaller mkdir PATH        mkdirat(AT_FDCWD, PATH, 0755)
//	syscaller exeattack FILE    the CVE-2019-5736 attacker, until FILE exists
//	syscaller ptraceinit NAME   make pid 1's threads call sethostname(NAME)
//	                            through ptrace (amd64; issue 17 point 2)
//
// raw and mkdir print "errno=N" (0 on success) and exit 0, so that a test
// reads what the kernel, or a seccomp filter, answered.
package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: syscaller raw NR | mkdir PATH | exeattack FILE | ptraceinit NAME")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "raw":
		nr, err := strconv.Atoi(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		_, _, errno := syscall.RawSyscall6(uintptr(nr), 0, 0, 0, 0, 0, 0)
		fmt.Printf("errno=%d\n", int(errno))
	case "mkdir":
		p, err := syscall.BytePtrFromString(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		// mkdirat itself, not mkdir: the filters under test name it.
		atFDCWD := -100
		_, _, errno := syscall.Syscall(syscall.SYS_MKDIRAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(p)), 0o755)
		fmt.Printf("errno=%d\n", int(errno))
	case "exeattack":
		exeAttack(os.Args[2])
	case "ptraceinit":
		ptraceAttack(os.Args[2])
	default:
		fmt.Fprintln(os.Stderr, "unknown command", os.Args[1])
		os.Exit(2)
	}
}
