//go:build !corral_testhooks

package libcontainer

// faultPoint marks a phase where the crash tests stop the runtime to kill
// it (internal/faults). The shipped library has none: a program embedding
// it must not sleep for ever because a variable leaked into its
// environment, so without the corral_testhooks build tag this is empty
// and the compiler drops every call.
func faultPoint(string) {}

// faultEnv is empty in the shipped library.
func faultEnv() []string { return nil }
