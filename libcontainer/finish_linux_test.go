package libcontainer

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSameCredentials(t *testing.T) {
	groups, err := unix.Getgroups()
	if err != nil {
		t.Fatal(err)
	}
	uid, gid := os.Getuid(), os.Getgid()
	same := &execUser{uid: uid, gid: gid, groups: groups}
	if !sameCredentials(same) {
		t.Errorf("%+v: not the same as this process's", same)
	}
	for _, u := range []*execUser{
		{uid: uid + 1, gid: gid, groups: groups},
		{uid: uid, gid: gid + 1, groups: groups},
		{uid: uid, gid: gid, groups: append(groups[:len(groups):len(groups)], 12345)},
	} {
		if sameCredentials(u) {
			t.Errorf("%+v: the same as this process's (uid %d, gid %d, groups %v)", u, uid, gid, groups)
		}
	}
}
