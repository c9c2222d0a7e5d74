package mountfd

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// NewFS makes a new instance of the filesystem fstype and returns its
// mount, detached: nobody sees it until Attach, so its type, attributes
// and contents can be checked and set through the handle first, and it
// lands exactly on the target handle given to Attach. flags are mount(2)'s
// MS_* flags: those of the mount (ro, nosuid, nodev, noexec, atime,
// nosymfollow) become its attributes, those of the superblock (ro, sync,
// dirsync, mand, lazytime) parameters, as mount(2) would pass them. data
// is mount(2)'s option string ("mode=755,size=64k").
func NewFS(fstype, source string, flags int, data string) (*os.File, error) {
	ctx, err := unix.Fsopen(fstype, unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, &os.PathError{Op: "fsopen", Path: fstype, Err: err}
	}
	defer unix.Close(ctx)
	fail := func(what string, err error) error {
		if msg := fsLog(ctx); msg != "" {
			return fmt.Errorf("%s %s: %w (%s)", fstype, what, err, msg)
		}
		return fmt.Errorf("%s %s: %w", fstype, what, err)
	}
	if source != "" {
		if err := unix.FsconfigSetString(ctx, "source", source); err != nil {
			return nil, fail("source "+source, err)
		}
	}
	for _, f := range sbFlags {
		if flags&f.flag != 0 {
			if err := unix.FsconfigSetFlag(ctx, f.name); err != nil {
				return nil, fail("option "+f.name, err)
			}
		}
	}
	for _, opt := range SplitOptions(data) {
		key, value, hasValue := strings.Cut(opt, "=")
		if hasValue {
			err = unix.FsconfigSetString(ctx, key, unquote(value))
		} else {
			err = unix.FsconfigSetFlag(ctx, key)
		}
		if err != nil {
			return nil, fail("option "+opt, err)
		}
	}
	if err := unix.FsconfigCreate(ctx); err != nil {
		return nil, fail("create", err)
	}
	fd, err := unix.Fsmount(ctx, unix.FSMOUNT_CLOEXEC, int(newMountAttr(flags)))
	if err != nil {
		return nil, fail("fsmount", err)
	}
	return os.NewFile(uintptr(fd), fstype+":"+source), nil
}

// sbFlags are the MS_* flags of a superblock that fsconfig takes as
// parameters every filesystem understands.
var sbFlags = []struct {
	flag int
	name string
}{
	{unix.MS_RDONLY, "ro"},
	{unix.MS_SYNCHRONOUS, "sync"},
	{unix.MS_DIRSYNC, "dirsync"},
	{unix.MS_MANDLOCK, "mand"},
	{unix.MS_LAZYTIME, "lazytime"},
	{unix.MS_I_VERSION, "iversion"},
}

// newMountAttr is the attributes of a new mount made with flags, as
// mount(2) sets them: relatime unless told otherwise.
func newMountAttr(flags int) uint64 {
	var a uint64
	for _, m := range attrOfFlag {
		if flags&m.flag != 0 {
			a |= m.attr
		}
	}
	switch {
	case flags&unix.MS_STRICTATIME != 0:
		a |= unix.MOUNT_ATTR_STRICTATIME
	case flags&unix.MS_NOATIME != 0:
		a |= unix.MOUNT_ATTR_NOATIME
	}
	return a
}

// fsLog reads what the kernel said about a failed fsconfig: "tmpfs: Bad
// value for 'mode'" tells more than EINVAL.
func fsLog(ctx int) string {
	var msgs []string
	buf := make([]byte, 256)
	for range 8 {
		n, err := unix.Read(ctx, buf)
		if err != nil || n <= 2 {
			break
		}
		// Each message is "e text", "w text" or "i text".
		msgs = append(msgs, strings.TrimSpace(string(buf[2:n])))
	}
	return strings.Join(msgs, "; ")
}

// SplitOptions splits a mount(2) option string at its commas, except
// those inside double quotes (an SELinux context="a:b:c0,c1").
func SplitOptions(data string) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				if i > start {
					out = append(out, data[start:i])
				}
				start = i + 1
			}
		}
	}
	if start < len(data) {
		out = append(out, data[start:])
	}
	return out
}

// unquote drops the double quotes that mount(2) strings put around a
// value with commas: fsconfig takes each value whole.
func unquote(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1]
	}
	return v
}

// Clone returns a detached copy of the mount whose root mnt is, without
// its submounts. mnt may be attached or, on kernels since 6.15, detached.
func Clone(mnt *os.File) (*os.File, error) {
	return CloneTree(mnt, "", false)
}

// CheckFSType refuses f unless it is on a filesystem of the given magic
// number (unix.PROC_SUPER_MAGIC, ...).
func CheckFSType(f *os.File, magic int64, what string) error {
	var fs unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &fs); err != nil {
		return &os.PathError{Op: "statfs", Path: f.Name(), Err: err}
	}
	if fs.Type != magic {
		return fmt.Errorf("%s is not a %s filesystem (magic %#x)", f.Name(), what, fs.Type)
	}
	return nil
}

// BindAttr is what mount(2) does to a bind mount remounted with flags
// (MS_BIND|MS_REMOUNT|flags), in mount_setattr's form: the mount gets
// exactly the ro, nosuid, nodev, noexec and nosymfollow of flags, and
// keeps its access-time mode unless flags name one (noatime, relatime,
// strictatime or nodiratime). It is nil when flags ask for nothing but
// the bind: the mount keeps every flag its source has.
func BindAttr(flags, cleared int) *unix.MountAttr {
	const bindOnly = unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT
	if flags&^bindOnly == 0 && cleared&attrFlags == 0 {
		return nil
	}
	a := &unix.MountAttr{}
	for _, m := range attrOfFlag {
		if m.flag == unix.MS_NODIRATIME {
			continue
		}
		if flags&m.flag != 0 {
			a.Attr_set |= m.attr
		} else {
			a.Attr_clr |= m.attr
		}
	}
	if flags&(atimeFlags|unix.MS_NODIRATIME) != 0 {
		a.Attr_clr |= unix.MOUNT_ATTR__ATIME | unix.MOUNT_ATTR_NODIRATIME
		a.Attr_set |= newMountAttr(flags&(atimeFlags|unix.MS_NODIRATIME)) & (unix.MOUNT_ATTR__ATIME | unix.MOUNT_ATTR_NODIRATIME)
	}
	return a
}

// attrFlags are the MS_* flags with a mount attribute.
const attrFlags = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC |
	unix.MS_NOSYMFOLLOW | unix.MS_NODIRATIME | atimeFlags

// LockedAttr is attr keeping the flags the kernel locks on the mounts it
// copied into a less privileged user namespace (read-only, nosuid, nodev,
// noexec) as mnt has them. The access-time mode is locked too; attr
// changes it only when asked to, and then it stays asked.
func LockedAttr(mnt *os.File, attr *unix.MountAttr) (*unix.MountAttr, error) {
	var fs unix.Statfs_t
	if err := unix.Fstatfs(int(mnt.Fd()), &fs); err != nil {
		return nil, &os.PathError{Op: "statfs", Path: mnt.Name(), Err: err}
	}
	keep := uint64(0)
	for _, m := range []struct {
		st   int64
		attr uint64
	}{
		{unix.ST_RDONLY, unix.MOUNT_ATTR_RDONLY},
		{unix.ST_NOSUID, unix.MOUNT_ATTR_NOSUID},
		{unix.ST_NODEV, unix.MOUNT_ATTR_NODEV},
		{unix.ST_NOEXEC, unix.MOUNT_ATTR_NOEXEC},
	} {
		if fs.Flags&m.st != 0 {
			keep |= m.attr
		}
	}
	a := *attr
	a.Attr_set |= keep
	a.Attr_clr &^= keep
	return &a, nil
}
