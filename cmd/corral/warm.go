package main

import (
	"encoding/json"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/libcontainer"
	"github.com/corral-oci/corral/libcontainer/configs"
)

// warmCodecs has encoding/json build the codecs of vs's types on another
// goroutine. encoding/json works a type's codec out on first use, for its
// whole type tree whatever the data holds, and a command meets three
// large trees one after the other: the spec's, the state's with its
// Config, the init setup's. Begun early, the building runs on a second
// CPU while the command reads its files; the command then finds the
// codecs made, or waits for the one still being made (encoding/json's
// caches are safe for that). It spends no CPU the command would not.
func warmCodecs(vs ...any) {
	go func() {
		for _, v := range vs {
			_, _ = json.Marshal(v) // for the codec only
		}
	}()
}

// warmForCreate readies the state, which create and run encode once the
// spec is loaded and checked. Not the spec: the command decodes it at
// once, and the two would only build the same codecs side by side.
func warmForCreate() {
	warmCodecs(&libcontainer.State{})
}

// warmForLoad readies the parts of the state's Config that loading it
// reaches last, the cgroup's and seccomp's trees; and what exec reads
// next, a spec's process.
func warmForLoad() {
	warmCodecs(&configs.Cgroup{}, &configs.Seccomp{}, &specs.Process{})
}
