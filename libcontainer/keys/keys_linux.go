// Package keys gives a container a session keyring of its own, so that
// keys one container adds are not visible to another sharing the host's
// session keyring.
package keys

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Possessor and user get every permission on the keyring: view, read,
// write, search, link and setattr (KEY_POS_ALL | KEY_USR_ALL).
const keyringPerm = 0x3f3f0000

// JoinSessionKeyring joins a new session keyring named name and returns
// its id. Kernels without keyrings (ENOSYS) are not an error: there is
// then nothing to share either.
func JoinSessionKeyring(name string) (int, error) {
	id, err := unix.KeyctlJoinSessionKeyring(name)
	if err != nil {
		if errors.Is(err, unix.ENOSYS) {
			return 0, nil
		}
		return 0, fmt.Errorf("join session keyring %q: %w", name, err)
	}
	if err := unix.KeyctlSetperm(id, keyringPerm); err != nil {
		return 0, fmt.Errorf("set permissions of session keyring %q: %w", name, err)
	}
	return id, nil
}
