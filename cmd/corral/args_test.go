package main

import (
	"errors"
	"slices"
	"testing"

	"github.com/corral-oci/corral/libcontainer"
)

func TestNormalizeArgs(t *testing.T) {
	for _, tc := range []struct {
		in, want []string
	}{
		{[]string{"-root", "/r", "list"}, []string{"--root", "/r", "list"}},
		{[]string{"-log=/l", "-log-format", "json", "state", "x"}, []string{"--log=/l", "--log-format", "json", "state", "x"}},
		{[]string{"create", "-bundle", "b", "-pid-file", "p", "id"}, []string{"create", "--bundle", "b", "--pid-file", "p", "id"}},
		{[]string{"delete", "id", "-force"}, []string{"delete", "id", "--force"}},
		// Shorthands and their groups stay as they are.
		{[]string{"run", "-d", "-b", "x", "id"}, []string{"run", "-d", "-b", "x", "id"}},
		{[]string{"exec", "-dt", "id", "sh"}, []string{"exec", "-dt", "id", "sh"}},
		// A flag's value is not a flag, even when it looks like one.
		{[]string{"--root", "-root", "list"}, []string{"--root", "-root", "list"}},
		{[]string{"exec", "-e", "-cwd", "id", "true"}, []string{"exec", "-e", "-cwd", "id", "true"}},
		// After exec's container id, everything is the program's.
		{[]string{"exec", "-cwd", "/", "id", "find", "-cwd"}, []string{"exec", "--cwd", "/", "id", "find", "-cwd"}},
		{[]string{"ps", "id", "-format"}, []string{"ps", "id", "-format"}},
		// And after "--", everything.
		{[]string{"kill", "--", "-root"}, []string{"kill", "--", "-root"}},
		// Unknown words are cobra's to reject.
		{[]string{"list", "-nosuchflag"}, []string{"list", "-nosuchflag"}},
		{[]string{"-", "list"}, []string{"-", "list"}},
	} {
		root := newRootCommand(&globals{}, nil)
		got := normalizeArgs(root, tc.in)
		if got2 := normalizeArgs(newRootCommand(&globals{}, tc.in), tc.in); !slices.Equal(got, got2) {
			t.Errorf("normalizeArgs(%q) with the one command built = %q, with all %q", tc.in, got2, got)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("normalizeArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzNormalizeArgs(f *testing.F) {
	f.Add("-root", "/r", "exec", "-cwd")
	f.Add("--", "-e", "=", "-")
	root := newRootCommand(&globals{}, nil)
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		in := []string{a, b, c, d}
		out := normalizeArgs(root, in)
		if len(out) != len(in) {
			t.Fatalf("length changed: %q -> %q", in, out)
		}
		for i := range in {
			if out[i] != in[i] && out[i] != "-"+in[i] {
				t.Fatalf("%q rewritten to %q", in[i], out[i])
			}
		}
	})
}

// BenchmarkCommandLine is the CLI's part of every container start: the
// command tree and the argument pass, before any container work.
func BenchmarkCommandLine(b *testing.B) {
	args := []string{"--root", "/run/corral", "--log", "/l", "--log-format", "json", "create", "--bundle", "/b", "--pid-file", "/p", "id"}
	for b.Loop() {
		root := newRootCommand(&globals{}, args)
		normalizeArgs(root, args)
	}
}

func TestUnknownCommand(t *testing.T) {
	root := newRootCommand(&globals{}, nil)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"nosuch"}, "nosuch"},
		{[]string{"nosuch", "-h"}, "nosuch"},
		{[]string{"--root", "/x", "nosuch", "--help"}, "nosuch"},
		{[]string{"help", "nosuch"}, "nosuch"},
		{[]string{"help"}, ""},
		{[]string{"help", "exec"}, ""},
		{[]string{"exec", "-h"}, ""},
		{[]string{"ls"}, ""},
		{[]string{"--root", "nosuch"}, ""},
		{[]string{"-h"}, ""},
		{nil, ""},
	} {
		if got := unknownCommand(root, tc.args); got != tc.want {
			t.Errorf("unknownCommand(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestExecFailure(t *testing.T) {
	for in, want := range map[string]string{
		`exec: exec "/run.sh": no such file or directory`: `start container "c": exec /run.sh: no such file or directory`,
		`exec: exec /run.sh: exec format error`:           `start container "c": exec /run.sh: exec format error`,
		`hooks: error running startContainer hook #0: x`:  `start container "c": hooks: error running startContainer hook #0: x`,
	} {
		err := execFailure(&libcontainer.ContainerError{Op: "start", ID: "c", Err: errors.New(in)})
		if err.Error() != want {
			t.Errorf("execFailure(%q) = %q, want %q", in, err, want)
		}
	}
	if execFailure(nil) != nil {
		t.Error("execFailure(nil) is not nil")
	}
}
