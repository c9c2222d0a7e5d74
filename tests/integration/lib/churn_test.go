package lib

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// TestChurn runs many containers through their whole life, a few at a
// time, in this one long-lived process, and then finds nothing left: no
// cgroup, mount, state directory, process or fd. CORRAL_CHURN sets how
// many (1000 for the full run: `CORRAL_CHURN=1000 go test -run Churn
// ./tests/integration/lib`); the default keeps CI short.
func TestChurn(t *testing.T) {
	total := 60
	if testing.Short() {
		total = 12
	}
	if v, err := strconv.Atoi(os.Getenv("CORRAL_CHURN")); err == nil && v > 0 {
		total = v
	}
	const parallel = 4
	root := t.TempDir()
	before := snapshot(t)
	goroutines := runtime.NumGoroutine()

	var wg sync.WaitGroup
	errs := make(chan error, total)
	ids := make(chan int)
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ids {
				if err := churnOne(t, root, i); err != nil {
					errs <- fmt.Errorf("container %d: %w", i, err)
				}
			}
		}()
	}
	start := time.Now()
	for i := 0; i < total; i++ {
		ids <- i
	}
	close(ids)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d containers in %v", total, time.Since(start))

	after := snapshot(t)
	if d := itest.Diff(before.mounts, after.mounts); d != "" {
		t.Errorf("leaked mounts: %s", d)
	}
	if d := itest.Diff(before.fds, after.fds); d != "" {
		t.Errorf("leaked fds: %s", d)
	}
	if d := itest.Diff(before.children, after.children); d != "" {
		t.Errorf("leaked processes: %s", d)
	}
	if ents, _ := os.ReadDir(root); len(ents) != 0 {
		t.Errorf("%d state directories left", len(ents))
	}
	if leaked, _ := filepath.Glob("/sys/fs/cgroup/*" + ownCgroup() + "/" + cgroupParent + "/churn-*"); len(leaked) > 0 {
		t.Errorf("cgroups left: %v", leaked)
	}
	// Goroutines of the library (stdio copies, watchers) must all end.
	for i := 0; i < 50 && runtime.NumGoroutine() > goroutines; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > goroutines {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines, %d before:\n%s", n, goroutines, buf[:runtime.Stack(buf, true)])
	}
}

// churnOne creates, starts, execs into, kills and destroys one container.
func churnOne(t *testing.T, root string, i int) error {
	cfg := newConfig(t, busybox)
	cfg.Cgroups.Name = fmt.Sprintf("churn-%d-%s", i, randomID(t))
	id := "churn-" + strconv.Itoa(i)
	c, err := libcontainer.Create(root, id, cfg)
	if err != nil {
		return err
	}
	defer c.Destroy()
	init := &libcontainer.Process{Args: []string{"sleep", "1000"}, Env: []string{"PATH=/bin"}, Init: true}
	if err := c.Start(init); err != nil {
		return err
	}
	if err := c.Exec(); err != nil {
		return err
	}
	var out syncBuffer
	p := &libcontainer.Process{Args: []string{"echo", "hi"}, Env: []string{"PATH=/bin"}, Stdout: &out}
	if err := c.Run(p); err != nil {
		return err
	}
	if st, err := p.Wait(); err != nil || !st.Success() || out.String() != "hi\n" {
		return fmt.Errorf("exec: %v %v %q", st, err, out.String())
	}
	if err := c.Signal(unix.SIGKILL); err != nil {
		return err
	}
	if _, err := init.Wait(); err != nil {
		return err
	}
	return c.Destroy()
}
