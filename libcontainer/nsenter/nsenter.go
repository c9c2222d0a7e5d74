// Package nsenter joins and creates a container's namespaces in the
// runtime's re-executed child, before the Go runtime starts its threads:
// the kernel refuses setns(2) into a user or mount namespace, and
// unshare(2) of a user namespace, to a multi-threaded process.
//
// Import it for its side effect in every program that uses libcontainer:
//
//	import _ "github.com/corral-oci/corral/libcontainer/nsenter"
//
// The constructor it installs does nothing unless the runtime started the
// process as one of its children: with the arguments {name, "init",
// marker} and the marker's variable together (see the libcontainer
// package doc). A variable inherited by accident changes nothing.
package nsenter

/*
#cgo CFLAGS: -Wall -Wextra -O2
extern void corral_nsenter(void);
void __attribute__((constructor)) corral_nsenter_init(void) {
	corral_nsenter();
}
*/
import "C"
