package libcontainer

import "github.com/corral-oci/corral/libcontainer/keys"

// setupKeyring gives the container its own session keyring.
func setupKeyring(s *setup) error {
	if s.Config.NoNewKeyring {
		return nil
	}
	_, err := keys.JoinSessionKeyring("_ses." + s.ID)
	return err
}
