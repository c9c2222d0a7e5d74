package libcontainer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/seccomp"
)

// seccompCacheDir holds compiled filters under the state root: compiling
// a docker-like profile with libseccomp is one of the slowest steps of a
// start or an exec, done again each time for the same few profiles.
const seccompCacheDir = ".cache/seccomp"

// The cache's directory starts with a dot, which no container id does.

// compiledSeccomp returns the classic-BPF program of c, from the cache of
// the state root when it was compiled before on this machine. A filter
// depends on its profile, libseccomp and the kernel (which flags it
// knows): all three name the cache entry. The cache is as trusted as the
// state root it lives in.
func compiledSeccomp(root string, c *configs.Seccomp) ([]byte, error) {
	key, err := seccompKey(c)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, seccompCacheDir)
	path := filepath.Join(dir, key)
	if b, err := os.ReadFile(path); err == nil {
		var f seccomp.Filter
		if f.UnmarshalBinary(b) == nil {
			return b, nil
		}
	}
	f, err := seccomp.Compile(c)
	if err != nil {
		return nil, err
	}
	b, err := f.MarshalBinary()
	if err != nil {
		return nil, err
	}
	// Best effort: a cache that cannot be written costs only time.
	if os.MkdirAll(dir, 0o700) == nil {
		if tmp, err := os.CreateTemp(dir, ".tmp-*"); err == nil {
			_, werr := tmp.Write(b)
			if cerr := tmp.Close(); werr == nil && cerr == nil {
				os.Rename(tmp.Name(), path)
			} else {
				os.Remove(tmp.Name())
			}
		}
	}
	return b, nil
}

func seccompKey(c *configs.Seccomp) (string, error) {
	profile, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	major, minor, micro, _ := seccomp.Version()
	var uts unix.Utsname
	unix.Uname(&uts)
	h := sha256.New()
	fmt.Fprintf(h, "libseccomp %d.%d.%d\nkernel %s %s\n", major, minor, micro, unix.ByteSliceToString(uts.Release[:]), unix.ByteSliceToString(uts.Machine[:]))
	h.Write(profile)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// precompileSeccomp puts the compiled filter of sc, if any, in a
// process's setup.
func (c *Container) precompileSeccomp(ps *processSetup, sc *configs.Seccomp) error {
	if sc == nil {
		return nil
	}
	b, err := compiledSeccomp(c.root, sc)
	if err != nil {
		return fmt.Errorf("seccomp: %w", err)
	}
	ps.SeccompBPF = b
	return nil
}
