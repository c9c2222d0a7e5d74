package libcontainer

import (
	"os/exec"
	"testing"
)

// describeExit names how a child ended, from real process states.
func TestDescribeExit(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   string
	}{
		{"exit 0", "exit status 0"},
		{"exit 3", "exit status 3"},
		{"kill -KILL $$", "killed by SIGKILL"},
		{"kill -TERM $$", "killed by SIGTERM"},
	} {
		cmd := exec.Command("sh", "-c", tc.script)
		cmd.Run()
		if cmd.ProcessState == nil {
			t.Fatalf("sh -c %q did not run", tc.script)
		}
		if got := describeExit(cmd.ProcessState); got != tc.want {
			t.Errorf("sh -c %q: %q, want %q", tc.script, got, tc.want)
		}
	}
}

func TestRootID(t *testing.T) {
	for _, tc := range []struct {
		idMap string
		want  int
	}{
		{"", -1},
		{"         0          0 4294967295\n", 0},
		{"         0     100000      65536\n", 100000},
		{"0 1000 1\n1 100000 65536\n", 1000},
		{"1 100000 65536\n", -1},
		// Root maps only with a non-empty range.
		{"0 5 0\n", -1},
		{"garbage\n0 7 1\n", 7},
		{"0 7 1", 7},
		{"0 7", -1},
	} {
		if got := rootID([]byte(tc.idMap)); got != tc.want {
			t.Errorf("rootID(%q) = %d, want %d", tc.idMap, got, tc.want)
		}
	}
}
