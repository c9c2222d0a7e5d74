package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/corral-oci/corral/libcontainer"
)

// TestNotRunningError checks the words containerd's shim looks for in a
// failed kill ("container not running", as runc says it) and that the
// library's error is still there for errors.Is.
func TestNotRunningError(t *testing.T) {
	for _, err := range []error{
		&notRunningError{id: "c1"},
		&notRunningError{id: "c1", err: fmt.Errorf("signal container %q: %w", "c1", libcontainer.ErrStopped)},
	} {
		msg := err.Error()
		if !strings.Contains(msg, "container not running") || !strings.Contains(msg, `"c1"`) {
			t.Errorf("message %q lacks runc's words or the container id", msg)
		}
		if !errors.Is(err, libcontainer.ErrNotRunning) && !errors.Is(err, libcontainer.ErrStopped) {
			t.Errorf("%q does not wrap the library's error", msg)
		}
	}
}
