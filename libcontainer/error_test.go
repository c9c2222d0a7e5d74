package libcontainer

import (
	"errors"
	"fmt"
	"testing"
)

func TestContainerErrorMessage(t *testing.T) {
	cause := errors.New("boom")
	for _, tc := range []struct {
		err  *ContainerError
		want string
	}{
		{&ContainerError{Op: "start", ID: "web", Err: cause}, `start container "web": boom`},
		{&ContainerError{Op: "exec in", ID: "web", Err: cause}, `exec in container "web": boom`},
		{&ContainerError{ID: "web", Err: ErrNotExist}, `container "web": container does not exist`},
		{&ContainerError{Op: "kill", ID: `a"b`}, `kill container "a\"b"`},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%#v: %q, want %q", tc.err, got, tc.want)
		}
	}
}

// The lifecycle's errors are typed: a caller learns the container and
// the operation with errors.As, and the cause with errors.Is, through any
// wrapping of its own.
func TestContainerErrorFound(t *testing.T) {
	root := t.TempDir()
	_, err := Load(root, "gone")
	var ce *ContainerError
	if !errors.As(fmt.Errorf("caller: %w", err), &ce) || ce.ID != "gone" || ce.Op != "" {
		t.Fatalf("Load of a missing container: %v (%#v), want a ContainerError for it", err, ce)
	}
	if !errors.Is(err, ErrNotExist) {
		t.Errorf("Load of a missing container: %v does not match ErrNotExist", err)
	}

	_, err = Create(root, "new", nil)
	if !errors.As(err, &ce) || ce.ID != "new" || ce.Op != "create" {
		t.Fatalf("Create with a nil config: %v, want the ContainerError of create", err)
	}
}
