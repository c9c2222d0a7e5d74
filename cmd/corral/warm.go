package main

import (
	"encoding/json"
	"os"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// warmUp does, on another goroutine, two things a command would otherwise
// do on its way, one after the other:
//
//   - for a command that spawns a process (spawns): Go's os package
//     checks once per process, before its first child, that pidfds work,
//     and the check clones a short-lived child; finding a process
//     (ourselves) makes it.
//   - encoding/json works a type's codec out on first use, for its whole
//     type tree whatever the data holds, and a command meets large trees
//     one after the other (the spec's, the state's with its Config): it
//     builds the codecs of vs's types.
//
// Begun early, this runs on a second CPU while the command reads its
// files; the command then finds the work done, or waits for what is
// still being done (both caches are safe for that). It spends no CPU the
// command would not.
func warmUp(spawns bool, vs ...any) {
	if len(vs) > 0 {
		go func() {
			for _, v := range vs {
				_, _ = json.Marshal(v) // for the codec only
			}
		}()
	}
	if spawns {
		// On its own goroutine: the check blocks its thread until the
		// child it clones has run, which the codecs need not wait for.
		go func() {
			if p, err := os.FindProcess(os.Getpid()); err == nil {
				p.Release()
			}
		}()
	}
}

// warmForCreate readies the spawning of init. Not the state, which
// libcontainer encodes without encoding/json's codec (internal/reflectjson),
// nor the spec, which the command decodes at once: the two would only
// build the same codecs side by side.
func warmForCreate() {
	warmUp(true)
}

// warmForLoad readies the parts of the state's Config that loading it
// reaches last, the cgroup's and seccomp's trees.
func warmForLoad() {
	warmUp(false, &configs.Cgroup{}, &configs.Seccomp{})
}

// warmForExec readies the spawning of the process. Not the state's
// trees, which exec usually finds cached, decoded (see libcontainer's
// state cache), nor the spec's process, which reflectjson decodes.
func warmForExec() {
	warmUp(true)
}
