// Package bench holds the benchmarks of corral: bench/run.sh and
// bench/cmd/bench measure the runtime against runc and crun on real
// containers; the Go benchmarks here cover what the public libcontainer
// API does on every runtime command, and the other hot paths have theirs
// in their own packages (specconv, configs/validate, seccomp, nsenter,
// internal/procstat, internal/selfexe).
package bench
