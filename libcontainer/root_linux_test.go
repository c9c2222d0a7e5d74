package libcontainer

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCheckRoot(t *testing.T) {
	for _, tc := range []struct {
		uid  uint32
		mode uint32
		want string // "" when the root is fit
	}{
		{0, unix.S_IFDIR | 0o700, ""},
		{0, unix.S_IFDIR | 0o711, ""},
		{0, unix.S_IFDIR | 0o755, ""},
		{1000, unix.S_IFDIR | 0o700, "owned by uid 1000, not by the caller (uid 0)"},
		{0, unix.S_IFDIR | 0o770, "writable by group (mode 0770)"},
		{0, unix.S_IFDIR | 0o707, "writable by others (mode 0707)"},
		{0, unix.S_IFDIR | 0o1777, "writable by group and others (mode 1777)"},
	} {
		st := unix.Stat_t{Uid: tc.uid, Mode: tc.mode}
		err := checkRoot("/run/x", &st, 0)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("uid %d mode %o: %v", tc.uid, tc.mode, err)
		case tc.want != "" && (err == nil || !errors.Is(err, ErrUnsafeRoot) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "/run/x")):
			t.Errorf("uid %d mode %o: %v, want ErrUnsafeRoot naming /run/x and %q", tc.uid, tc.mode, err, tc.want)
		}
	}
}
