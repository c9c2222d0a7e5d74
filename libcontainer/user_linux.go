package libcontainer

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/moby/sys/user"
	"golang.org/x/sys/unix"
)

// maxUserDB bounds how much of the container's /etc/passwd and /etc/group
// is read: a hostile image may link them to /dev/urandom.
const maxUserDB = 16 << 20

// execUser is who the process runs as.
type execUser struct {
	uid, gid int
	groups   []int
	home     string
}

// lookupUser resolves the process's user and groups in the container's
// /etc/passwd and /etc/group; numeric ids need neither file.
func lookupUser(ps *processSetup) (*execUser, error) {
	passwd, err := openUserDB("/etc/passwd")
	if err != nil {
		return nil, err
	}
	if passwd != nil {
		defer passwd.Close()
	}
	group, err := openUserDB("/etc/group")
	if err != nil {
		return nil, err
	}
	if group != nil {
		defer group.Close()
	}
	defaults := &user.ExecUser{Uid: 0, Gid: 0, Home: "/"}
	eu, err := user.GetExecUser(ps.User, defaults, limited(passwd), limited(group))
	if err != nil {
		return nil, fmt.Errorf("process.user %q: %w", ps.User, err)
	}
	u := &execUser{uid: eu.Uid, gid: eu.Gid, groups: eu.Sgids, home: eu.Home}
	if len(ps.AdditionalGroups) > 0 {
		if group != nil {
			if _, err := group.Seek(0, io.SeekStart); err != nil {
				return nil, err
			}
		}
		gids, err := user.GetAdditionalGroups(ps.AdditionalGroups, limited(group))
		if err != nil {
			return nil, fmt.Errorf("process.additional_groups %v: %w", ps.AdditionalGroups, err)
		}
		u.groups = append(u.groups, gids...)
	}
	return u, nil
}

// openUserDB opens a regular file, or returns nil if there is none.
func openUserDB(path string) (*os.File, error) {
	f, err := os.OpenFile(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	return f, nil
}

// limited returns nil for a nil file, so the user library treats it as
// missing, and a bounded reader otherwise.
func limited(f *os.File) io.Reader {
	if f == nil {
		return nil
	}
	return io.LimitReader(f, maxUserDB)
}
