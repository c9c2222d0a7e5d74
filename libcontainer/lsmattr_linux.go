package libcontainer

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// lsmAttr is an LSM attribute that takes effect at the next exec:
// AppArmor's "exec PROFILE", SELinux's exec label. init execs its own
// binary before the program (the wait mode, the hooks mode), and that
// first exec would take them; and the kernel lets only the opener of the
// file write it, with the credentials it opened it with, which an exec
// replaces. So what execs the program opens and writes them, last,
// through init's own procfs (openInitProcfs).
type lsmAttr struct {
	// Step names a failure ("apparmor", "selinux").
	Step string
	// Attr is the file below /proc/thread-self ("attr/apparmor/exec").
	Attr  string
	Value string
}

// lsmAttrs returns the attributes of the process ps describes, named as
// procfs has them.
func lsmAttrs(procfs int, ps *processSetup) []lsmAttr {
	var attrs []lsmAttr
	if ps.AppArmorProfile != "" {
		// Kernels since 5.8 have an AppArmor-specific attr directory,
		// which stays right when another LSM also uses attr/exec.
		attr := "attr/apparmor/exec"
		var st unix.Stat_t
		if unix.Fstatat(procfs, "thread-self/attr/apparmor", &st, 0) != nil {
			attr = "attr/exec"
		}
		attrs = append(attrs, lsmAttr{"apparmor", attr, "exec " + ps.AppArmorProfile})
	}
	if ps.Label != "" {
		attrs = append(attrs, lsmAttr{"selinux", "attr/exec", ps.Label})
	}
	return attrs
}

// procfsWritable reports whether the exec labels can be written through
// procfs: init's procfs is read-only on kernels without subset=pid.
func procfsWritable(procfs int) bool {
	var st unix.Statfs_t
	return unix.Fstatfs(procfs, &st) == nil && st.Flags&unix.ST_RDONLY == 0
}

// writeLSMAttrs writes attrs for the calling thread, which must be
// locked to its OS thread and exec the program next, through procfs.
func writeLSMAttrs(procfs int, attrs []lsmAttr) error {
	for _, a := range attrs {
		fd, err := unix.Openat(procfs, "thread-self/"+a.Attr, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			err = writeAll(fd, []byte(a.Value))
			unix.Close(fd)
		}
		if err != nil {
			return step(a.Step, fmt.Errorf("%s exec label %q: write /proc/thread-self/%s: %w", a.Step, a.Value, a.Attr, err))
		}
	}
	return nil
}

// openHostProcfs opens the runtime's /proc, checked to be a procfs's
// root, for an exec'd process's setup to write its exec labels through
// (setup.ProcFD). The setup is not in the container's pid namespace: the
// container cannot reach it, and it closes the fd before the program's
// process is cloned.
func openHostProcfs() (*os.File, error) {
	f, err := os.OpenFile("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /proc for the exec labels: %w", err)
	}
	var fs unix.Statfs_t
	var st unix.Stat_t
	if err := unix.Fstatfs(int(f.Fd()), &fs); err != nil || fs.Type != unix.PROC_SUPER_MAGIC ||
		unix.Fstat(int(f.Fd()), &st) != nil || st.Ino != 1 {
		f.Close()
		return nil, fmt.Errorf("open /proc for the exec labels: /proc is not the root of a procfs")
	}
	return f, nil
}
