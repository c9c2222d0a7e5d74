package libcontainer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sync"

	"github.com/corral-oci/corral/libcontainer/internal/posenc"
)

// stateCacheFile keeps state.json decoded, in posenc, for the commands
// that load the container after the one that wrote it. encoding/json
// builds its codec for the whole State on first use, in every process:
// 0.5-0.8 ms of each exec, start, kill or delete; posenc decodes the
// same state in 0.15 ms.
//
// state.json stays the truth. The cache is written by the first command
// that decodes a new state.json (so that create and run, which never load,
// pay nothing), removed by every save before the new state.json is
// renamed in, and used only when it was made from the state.json now on
// disk (its stamp) by a State of the same layout (an upgraded binary
// reads JSON). All of it happens under the container's lock.
const stateCacheFile = "state.posenc"

// stateCacheMagic begins the file; the header then holds the layout of
// State and the stamp of the state.json the cache was made from.
var stateCacheMagic = []byte("corral-state-posenc\n")

const stateCacheHeader = 8 + 4*8 // layout, ino, size, ctime

var stateLayout = sync.OnceValue(func() uint64 {
	return posenc.Layout(reflect.TypeFor[State]())
})

func (c *Container) stateCachePath() string {
	return filepath.Join(c.dir, stateCacheFile)
}

// cachedState returns the cached state of the state.json of stamp, or
// nil if there is none that may be used.
func (c *Container) cachedState(stamp stateStamp) *State {
	b, err := os.ReadFile(c.stateCachePath())
	if err != nil {
		return nil
	}
	rest, ok := bytes.CutPrefix(b, stateCacheMagic)
	if !ok || len(rest) < stateCacheHeader || !bytes.Equal(rest[:stateCacheHeader], cacheHeader(stamp)) {
		return nil
	}
	var st State
	if err := posenc.Unmarshal(rest[stateCacheHeader:], &st); err != nil {
		slog.Debug("state cache unreadable; reading state.json", "id", c.id, "error", err)
		return nil
	}
	return &st
}

func cacheHeader(stamp stateStamp) []byte {
	h := binary.LittleEndian.AppendUint64(nil, stateLayout())
	h = binary.LittleEndian.AppendUint64(h, stamp.ino)
	h = binary.LittleEndian.AppendUint64(h, stamp.size)
	h = binary.LittleEndian.AppendUint64(h, uint64(stamp.ctime.Sec))
	return binary.LittleEndian.AppendUint64(h, uint64(stamp.ctime.Nsec))
}

// cacheState writes st, just decoded from the state.json of stamp, to the
// cache. It is an optimisation: failing leaves no cache, and no error.
func (c *Container) cacheState(st *State, stamp stateStamp) {
	payload, err := posenc.Marshal(st)
	if err != nil {
		slog.Debug("state cache not written", "id", c.id, "error", err)
		return
	}
	b := append(append(append([]byte(nil), stateCacheMagic...), cacheHeader(stamp)...), payload...)
	f, err := os.CreateTemp(c.dir, ".state-posenc-*")
	if err != nil {
		return
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), c.stateCachePath())
	}
	if err != nil {
		os.Remove(f.Name())
	}
}

// dropStateCache removes the cache before a new state.json replaces the
// one it was made from. Its stamp would not match the new file anyway,
// unless the file system reused the inode within the resolution of its
// change times for a state of the same size.
func (c *Container) dropStateCache() error {
	if err := os.Remove(c.stateCachePath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove state cache: %w", err)
	}
	return nil
}
