//go:build !amd64

package main

import (
	"fmt"
	"os"
)

// ptraceAttack sets x86_64 registers to inject its system call; on
// other architectures the test skips it.
func ptraceAttack(string) {
	fmt.Fprintln(os.Stderr, "ptraceinit: only on amd64")
	os.Exit(2)
}
