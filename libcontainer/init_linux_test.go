package libcontainer

import (
	"errors"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/internal/initsync"
)

// step tags an error with the first step that saw it, keeping its errno
// for the runtime.
func TestStep(t *testing.T) {
	if err := step("mount", nil); err != nil {
		t.Errorf("step of no error: %v", err)
	}
	err := step("mount", fmt.Errorf("mount /data: %w", unix.ENOENT))
	var ie *initsync.InitError
	if !errors.As(err, &ie) || ie.Step != "mount" || ie.Errno != unix.ENOENT || ie.Message != "mount /data: no such file or directory" {
		t.Fatalf("step: %#v", err)
	}
	if again := step("pivot_root", fmt.Errorf("wrapped: %w", err)); !errors.As(again, &ie) || ie.Step != "mount" {
		t.Errorf("a tagged error was tagged again: %#v", again)
	}
}
