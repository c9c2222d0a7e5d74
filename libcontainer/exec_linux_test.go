package libcontainer

import (
	"maps"
	"strings"
	"testing"
)

// cgroupDirs puts an exec'd process in a sub-cgroup of the container's,
// never outside it.
func TestCgroupDirs(t *testing.T) {
	paths := map[string]string{"memory": "/sys/fs/cgroup/memory/c", "pids": "/sys/fs/cgroup/pids/c"}
	for _, tc := range []struct {
		name string
		sub  map[string]string
		want map[string]string
	}{
		{"none", nil, paths},
		{"all", map[string]string{"": "job"}, map[string]string{"memory": "/sys/fs/cgroup/memory/c/job", "pids": "/sys/fs/cgroup/pids/c/job"}},
		{"one", map[string]string{"memory": "m/n"}, map[string]string{"memory": "/sys/fs/cgroup/memory/c/m/n", "pids": "/sys/fs/cgroup/pids/c"}},
		{"one and the rest", map[string]string{"memory": "m", "": "job"}, map[string]string{"memory": "/sys/fs/cgroup/memory/c/m", "pids": "/sys/fs/cgroup/pids/c/job"}},
		{"cleaned", map[string]string{"": "a/../b/"}, map[string]string{"memory": "/sys/fs/cgroup/memory/c/b", "pids": "/sys/fs/cgroup/pids/c/b"}},
		{"the container's own", map[string]string{"": "."}, paths},
	} {
		got, err := cgroupDirs(paths, tc.sub)
		if err != nil || !maps.Equal(got, tc.want) {
			t.Errorf("%s: %v, %v, want %v", tc.name, got, err, tc.want)
		}
	}
	for _, sub := range []string{"..", "../other", "a/../../c2", "/.."} {
		if got, err := cgroupDirs(paths, map[string]string{"": sub}); err == nil {
			t.Errorf("sub-cgroup %q: %v, want an error", sub, got)
		}
	}
	// A controller the container's cgroup lacks, as runc refuses it: on
	// v1, and on v2, whose one path has no controller name.
	for _, p := range []map[string]string{paths, {"": "/sys/fs/cgroup/c"}} {
		if got, err := cgroupDirs(p, map[string]string{"nosuch": "x"}); err == nil || !strings.Contains(err.Error(), `"nosuch"`) {
			t.Errorf("unknown controller with paths %v: %v, %v, want an error naming it", p, got, err)
		}
	}
}
