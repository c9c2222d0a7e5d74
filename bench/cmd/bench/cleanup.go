package main

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

const cgroupRoot = "/sys/fs/cgroup"

// cleanup deletes every container left in the runtimes' state roots, then
// looks for cgroups named after our ids in every hierarchy. A cgroup still
// there is a leak: its processes are killed, it is removed, and it is
// returned so that the run reports it rather than hiding it.
func cleanup(rts []*ociRuntime, prefix string) []string {
	var leaks []string
	for _, r := range rts {
		entries, _ := os.ReadDir(r.root)
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			r.do(context.Background(), 0, "delete", "--force", e.Name())
			if _, err := os.Stat(filepath.Join(r.root, e.Name())); err == nil {
				leaks = append(leaks, r.Name+" state "+filepath.Join(r.root, e.Name()))
			}
		}
	}
	// Give killed inits a moment to exit so they can be reaped here, not
	// left to a pid 1 that may never do it.
	deadline := time.Now().Add(2 * time.Second)
	for {
		reapOrphans()
		dirs := findCgroups(prefix)
		if len(dirs) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, dir := range findCgroups(prefix) {
		leaks = append(leaks, dir)
		removeCgroup(dir)
	}
	reapOrphans()
	return leaks
}

// findCgroups lists the cgroups, in every mounted hierarchy, whose name
// starts with prefix. Runtimes place them differently (corral under
// /corral, crun at the top, runc under its own cgroup in some
// controllers), so the whole tree is searched.
func findCgroups(prefix string) []string {
	var found []string
	filepath.WalkDir(cgroupRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if strings.HasPrefix(d.Name(), prefix) {
			found = append(found, path)
			return filepath.SkipDir
		}
		return nil
	})
	return found
}

// removeCgroup kills what runs in dir and below and removes the cgroups,
// the deepest first, as rmdir needs.
func removeCgroup(dir string) {
	var dirs []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	for _, d := range dirs {
		data, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil {
				unix.Kill(pid, unix.SIGKILL)
			}
		}
	}
	slices.Reverse(dirs)
	for try := 0; try < 50; try++ {
		reapOrphans()
		left := dirs[:0]
		for _, d := range dirs {
			if err := unix.Rmdir(d); err != nil && err != unix.ENOENT {
				left = append(left, d)
			}
		}
		if dirs = left; len(dirs) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
