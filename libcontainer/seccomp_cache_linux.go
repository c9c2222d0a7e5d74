package libcontainer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
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

// cacheMagic begins every cache entry; the digest of the entry's key
// follows it, then the filter.
var cacheMagic = [8]byte{'c', 'o', 'r', 'r', 'a', 'l', 's', '1'}

// compiledSeccomp returns the classic-BPF program of c, from the cache of
// the state root when it was compiled before on this machine. A filter
// depends on its profile, libseccomp and the kernel (which flags it
// knows): the digest of all three names the cache entry and is written
// inside it, so an entry renamed or copied from another profile's is
// recompiled, not loaded. The state root is the caller's alone (see
// ErrUnsafeRoot), and so must each entry be.
func compiledSeccomp(root string, c *configs.Seccomp) ([]byte, error) {
	key, err := seccompKey(c)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, seccompCacheDir)
	path := filepath.Join(dir, hex.EncodeToString(key[:]))
	if b := readCachedFilter(path, key); b != nil {
		return b, nil
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
			entry := make([]byte, 0, len(cacheMagic)+len(key)+len(b))
			entry = append(append(append(entry, cacheMagic[:]...), key[:]...), b...)
			_, werr := tmp.Write(entry)
			if cerr := tmp.Close(); werr == nil && cerr == nil {
				os.Rename(tmp.Name(), path)
			} else {
				os.Remove(tmp.Name())
			}
		}
	}
	return b, nil
}

// readCachedFilter returns the filter of the cache entry at path if the
// entry is the caller's own regular file, written by no one else, holds
// key's digest and a filter that decodes; else nil.
func readCachedFilter(path string, key [sha256.Size]byte) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG ||
		int(st.Uid) != os.Geteuid() || st.Mode&0o022 != 0 {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(f, maxCacheEntry))
	if err != nil || len(b) < len(cacheMagic)+len(key) ||
		[8]byte(b[:8]) != cacheMagic || [sha256.Size]byte(b[8:8+sha256.Size]) != key {
		return nil
	}
	b = b[len(cacheMagic)+len(key):]
	var filter seccomp.Filter
	if filter.UnmarshalBinary(b) != nil {
		return nil
	}
	return b
}

// maxCacheEntry bounds the read of a cache entry: a filter has at most
// 4096 instructions of 8 bytes.
const maxCacheEntry = 64 << 10

// seccompKey is the digest of what a compiled filter depends on.
func seccompKey(c *configs.Seccomp) ([sha256.Size]byte, error) {
	profile, err := json.Marshal(c)
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	major, minor, micro, _ := seccomp.Version()
	var uts unix.Utsname
	unix.Uname(&uts)
	h := sha256.New()
	fmt.Fprintf(h, "libseccomp %d.%d.%d\nkernel %s %s\n", major, minor, micro, unix.ByteSliceToString(uts.Release[:]), unix.ByteSliceToString(uts.Machine[:]))
	h.Write(profile)
	return [sha256.Size]byte(h.Sum(nil)), nil
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
