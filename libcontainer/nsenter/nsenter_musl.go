//go:build musl

package nsenter

// The bootstrap must repair musl's copy of the thread id in the child it
// clones (nsenter.c, fork_into_namespaces).

// #cgo CFLAGS: -DCORRAL_MUSL
import "C"
