package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// normalizeArgs rewrites runc's single-dash spellings of long flags
// ("-root DIR", "-log=FILE", "-pid-file F") to the double-dash form pflag
// parses; engines written against runc's urfave/cli grammar use both.
//
// It walks the arguments as the parser will: a flag that takes a value
// consumes the next argument, the first positional names the command,
// and for a command that stops at its first positional (exec, ps: what
// follows the container id is a program's own arguments) nothing after
// that positional is touched. A single-dash word that is not a known
// long flag (a shorthand group like "-dt") is left as it is.
func normalizeArgs(root *cobra.Command, args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	cmd := root
	for i := 0; i < len(out); i++ {
		a := out[i]
		if a == "--" {
			break
		}
		if len(a) < 2 || a[0] != '-' {
			if cmd == root {
				if sub := findSubcommand(root, a); sub != nil {
					cmd = sub
					continue
				}
			}
			// The container id of exec or ps: the rest belongs to
			// the container's program or to ps(1).
			if cmd.Annotations[annotationStopAtFirstArg] != "" {
				break
			}
			continue
		}
		name, hasValue := a[1:], false
		if name == "" || name == "-" {
			continue
		}
		if k := strings.IndexByte(name, '='); k >= 0 {
			name, hasValue = name[:k], true
		}
		var f *pflag.Flag
		if strings.HasPrefix(name, "-") {
			f = lookupFlag(cmd, name[1:])
		} else if len(name) > 1 {
			if f = lookupFlag(cmd, name); f != nil {
				out[i] = "-" + a
			} else {
				// A shorthand group: only its last letter can take a value.
				f = lookupShorthand(cmd, name[len(name)-1:])
			}
		} else {
			f = lookupShorthand(cmd, name)
		}
		if f != nil && !hasValue && f.NoOptDefVal == "" {
			i++ // the flag's value
		}
	}
	return out
}

// annotationStopAtFirstArg marks commands whose arguments after the
// container id are not corral's: exec (the program) and ps (ps options).
const annotationStopAtFirstArg = "corral.stop-at-first-arg"

func findSubcommand(root *cobra.Command, name string) *cobra.Command {
	for _, c := range root.Commands() {
		if c.Name() == name || c.HasAlias(name) {
			return c
		}
	}
	return nil
}

// lookupFlag finds a long flag of cmd or a global one.
func lookupFlag(cmd *cobra.Command, name string) *pflag.Flag {
	if f := cmd.Flags().Lookup(name); f != nil {
		return f
	}
	return cmd.Root().PersistentFlags().Lookup(name)
}

func lookupShorthand(cmd *cobra.Command, s string) *pflag.Flag {
	if f := cmd.Flags().ShorthandLookup(s); f != nil {
		return f
	}
	return cmd.Root().PersistentFlags().ShorthandLookup(s)
}

// commandName is the first positional argument, the subcommand, skipping
// the global flags and their values; "" if there is none.
func commandName(root *cobra.Command, args []string) string {
	if i := commandIndex(root, args); i >= 0 {
		return args[i]
	}
	return ""
}

// unknownCommand returns the command that args name and corral does not
// have ("corral nosuch -h", "corral help nosuch"), or "". cobra answers
// those with the root's help and success, so a mistyped command would
// pass for done.
func unknownCommand(root *cobra.Command, args []string) string {
	i := commandIndex(root, args)
	if i < 0 {
		return ""
	}
	name := args[i]
	if name == "help" {
		for _, a := range args[i+1:] {
			if a != "" && a[0] != '-' {
				name = a
				break
			}
		}
		if name == "help" {
			return ""
		}
	}
	if findSubcommand(root, name) != nil {
		return ""
	}
	return name
}

// commandIndex is the index in args of the subcommand (see commandName),
// or -1.
func commandIndex(root *cobra.Command, args []string) int {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return -1
		}
		if len(a) < 2 || a[0] != '-' {
			return i
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		var f *pflag.Flag
		if strings.HasPrefix(a, "--") || len(name) > 1 {
			f = lookupFlag(root, name)
		} else {
			f = lookupShorthand(root, name)
		}
		if f != nil && !hasValue && f.NoOptDefVal == "" {
			i++
		}
	}
	return -1
}
