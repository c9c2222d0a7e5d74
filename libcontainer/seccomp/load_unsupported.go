//go:build !linux

package seccomp

import "github.com/opencontainers/runtime-spec/specs-go"

// Load fails: seccomp is Linux's.
func Load(*Filter) (int, error) { return -1, ErrNotSupported }

// SendListenerFd fails: there is no listener to send.
func SendListenerFd(string, int, *specs.ContainerProcessState) error { return ErrNotSupported }

// FlagSupported reports that no flag is supported.
func FlagSupported(specs.LinuxSeccompFlag) (bool, error) { return false, ErrNotSupported }
