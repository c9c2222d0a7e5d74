package libcontainer

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
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

func TestProcessEnv(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		home string
		want []string
	}{
		{nil, "", []string{"HOME=/"}},
		{[]string{"A=1"}, "/root", []string{"A=1", "HOME=/root"}},
		{[]string{"HOME=/mine", "A=1"}, "/root", []string{"HOME=/mine", "A=1"}},
		// An empty HOME is replaced, where it was, as runc does.
		{[]string{"A=1", "HOME=", "B=2"}, "/root", []string{"A=1", "HOME=/root", "B=2"}},
		{[]string{"HOME="}, "", []string{"HOME=/"}},
		// Of several, the last counts, in the place of the first.
		{[]string{"HOME=/a", "A=1", "HOME="}, "/root", []string{"HOME=/root", "A=1"}},
		{[]string{"HOME=", "A=1", "HOME=/b"}, "/root", []string{"HOME=/b", "A=1"}},
		{[]string{"HOME=/a", "HOME=/b"}, "/root", []string{"HOME=/b"}},
		{[]string{"HOMEDIR=/x"}, "", []string{"HOMEDIR=/x", "HOME=/"}},
	} {
		if got := processEnv(tc.env, tc.home); !slices.Equal(got, tc.want) {
			t.Errorf("processEnv(%q, %q) = %q, want %q", tc.env, tc.home, got, tc.want)
		}
	}
	// The caller's slice is not written: it may be the Process's Env.
	env := make([]string, 1, 4)
	env[0] = "A=1"
	processEnv(env, "/root")
	if got := env[:2]; got[1] != "" {
		t.Errorf("processEnv wrote into the spare capacity of its argument: %q", got)
	}
	env = []string{"HOME=", "HOME=/a"}
	processEnv(env, "/root")
	if env[0] != "HOME=" || env[1] != "HOME=/a" {
		t.Errorf("processEnv changed its argument: %q", env)
	}
}

// lookPath searches the PATH of the process's own environment as the
// process's user, on a directory tree made for the test.
func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	mk := func(rel string, mode os.FileMode) string {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	prog1 := mk("a/prog", 0o755)
	prog2 := mk("b/prog", 0o755)
	mk("a/plain", 0o644)
	other := mk("b/other", 0o700)
	if err := os.MkdirAll(filepath.Join(dir, "a/sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, tc := range []struct {
		name    string
		env     []string
		want    string
		wantErr string
	}{
		{"prog", []string{"PATH=" + a + ":" + b}, prog1, ""},
		{"prog", []string{"PATH=" + b + ":" + a}, prog2, ""},
		{"other", []string{"PATH=" + a + ":" + b}, other, ""},
		{"prog", []string{"PATH=/nonexistent:" + b}, prog2, ""},
		{"missing", []string{"PATH=" + a + ":" + b}, "", "executable file not found in $PATH"},
		// Found but not executable, or a directory: that is the error.
		{"plain", []string{"PATH=" + a}, "", "permission denied"},
		{"sub", []string{"PATH=" + a}, "", "is a directory"},
		// A name with a slash is not searched for.
		{prog1, []string{"PATH=" + b}, prog1, ""},
		{filepath.Join(a, "plain"), nil, "", "permission denied"},
		{filepath.Join(a, "missing"), nil, "", "no such file"},
	} {
		got, err := lookPath(tc.name, tc.env)
		if tc.wantErr == "" && (err != nil || got != tc.want) {
			t.Errorf("lookPath(%q, %q) = %q, %v, want %q", tc.name, tc.env, got, err, tc.want)
		}
		if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "process.args[0]")) {
			t.Errorf("lookPath(%q, %q) = %q, %v, want an error of process.args[0] with %q", tc.name, tc.env, got, err, tc.wantErr)
		}
	}
}
