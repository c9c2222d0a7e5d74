package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// session is one benchmark run over all runtimes.
type session struct {
	opts   options
	bundle bundles
	ts     *taskstats // nil when the kernel does not give exit records
	res    *results
	rts    []*ociRuntime
	// sleepers are the long-running containers exec enters, by runtime.
	sleepers map[string]*sleeper
	seq      int
}

type sleeper struct {
	id    string
	pid   int
	pidfd int
}

// id names a new container. Ids are never reused within a run, so that a
// container a runtime failed to delete cannot turn into a failure of a
// later, unrelated measurement; the prefix makes every cgroup of the run
// findable for the leak check.
func (s *session) id(r *ociRuntime, op string) string {
	s.seq++
	return fmt.Sprintf("%s%s-%s-%d", s.opts.idPrefix, r.Name, op, s.seq)
}

// preflight runs one container per runtime. A runtime other than corral
// that cannot run one here is left out with a note, rather than failing
// every measurement; corral failing is an error.
func (s *session) preflight(ctx context.Context, rts []*ociRuntime) error {
	for _, r := range rts {
		id := s.id(r, "preflight")
		if _, err := r.do(ctx, 0, "run", "--bundle", s.bundle.trueDir, id); err != nil {
			s.forceDelete(r, id)
			if r.Name == "corral" {
				return fmt.Errorf("preflight: %w", err)
			}
			s.res.Notes = append(s.res.Notes, fmt.Sprintf("%s left out: it cannot run the bundle here: %v", r.Name, err))
			fmt.Fprintf(os.Stderr, "bench: %s left out: %v\n", r.Name, err)
			continue
		}
		s.rts = append(s.rts, r)
	}
	reapOrphans()
	return ctx.Err()
}

// rotate is the order of the runtimes in iteration i: each goes first,
// second and last equally often, so none always runs right after another
// runtime's cleanup or always first in a fresh iteration.
func rotate(rts []*ociRuntime, i int) []*ociRuntime {
	n := len(rts)
	out := make([]*ociRuntime, n)
	for k := range rts {
		out[k] = rts[((i+k)%n+n)%n]
	}
	return out
}

func (s *session) measure(ctx context.Context) error {
	o := s.opts
	s.startSleepers(ctx)
	defer s.stopSleepers()

	total := o.warmup + o.n
	for i := -o.warmup; i < o.n; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		keep := i >= 0
		order := rotate(s.rts, i)
		for _, r := range order {
			s.runOnce(ctx, r, keep)
		}
		for _, r := range order {
			s.createStartDelete(ctx, r, keep)
		}
		for _, r := range order {
			s.execOnce(ctx, r, keep)
		}
		reapOrphans()
		if done := i + o.warmup + 1; done%10 == 0 || done == total {
			fmt.Fprintf(os.Stderr, "bench: latency %d/%d iterations\n", done, total)
		}
	}
	for b := 0; b < o.batches; b++ {
		order := rotate(s.rts, b)
		for _, r := range order {
			if err := ctx.Err(); err != nil {
				return err
			}
			s.sequential(ctx, r)
			reapOrphans()
		}
		for _, r := range order {
			if err := ctx.Err(); err != nil {
				return err
			}
			s.parallel(ctx, r)
			reapOrphans()
		}
		fmt.Fprintf(os.Stderr, "bench: throughput %d/%d batches\n", b+1, o.batches)
	}
	return ctx.Err()
}

// runOnce is `run` of /bin/true: create, start, wait for the exit and
// delete, all in one call; the peak RSS figures come from the same call.
func (s *session) runOnce(ctx context.Context, r *ociRuntime, keep bool) {
	if ctx.Err() != nil {
		return // interrupted: measure nothing more, cleanup follows
	}
	id := s.id(r, "run")
	if s.ts != nil {
		s.ts.reset()
	}
	out, err := r.do(ctx, 0, "run", "--bundle", s.bundle.trueDir, id)
	if err != nil {
		s.res.fail(mRun, r.Name, err)
		s.forceDelete(r, id)
		return
	}
	if !keep {
		return
	}
	s.res.add(mRun, r.Name, ms(out.wall))
	s.res.add(mCPURun, r.Name, ms(out.cpu))
	s.res.add(mRSSWait4, r.Name, float64(out.maxRSS)/1024)
	if s.ts != nil {
		if kib, ok := s.ts.peakRSS(out.pid); ok {
			s.res.add(mRSSRuntime, r.Name, float64(kib)/1024)
		} else {
			s.res.fail(mRSSRuntime, r.Name, fmt.Errorf("no taskstats exit record for pid %d", out.pid))
		}
	} else {
		s.res.add(mRSSRuntime, r.Name, float64(out.maxRSS)/1024)
	}
}

// createStartDelete times the three steps separately. Between start and
// delete, untimed, the container's /bin/true exits and is reaped, so
// delete always deletes a stopped container, as `run` does at its end.
func (s *session) createStartDelete(ctx context.Context, r *ociRuntime, keep bool) {
	if ctx.Err() != nil {
		return // interrupted: measure nothing more, cleanup follows
	}
	id := s.id(r, "csd")
	pidFile := filepath.Join(s.opts.work, id+".pid")
	defer os.Remove(pidFile)
	create, err := r.do(ctx, 0, "create", "--bundle", s.bundle.trueDir, "--pid-file", pidFile, id)
	if err != nil {
		s.res.fail(mCreate, r.Name, err)
		s.forceDelete(r, id)
		return
	}
	pid, pidfd, err := openPidFile(pidFile)
	if err != nil {
		s.res.fail(mCreate, r.Name, err)
		s.forceDelete(r, id)
		return
	}
	defer unix.Close(pidfd)
	// The init has done all its setup and waits for start: its high
	// water mark now is its peak before it execs the container's program.
	initKiB, hwmErr := vmHWM(pid)

	start, err := r.do(ctx, 0, "start", id)
	if err != nil {
		s.res.fail(mStart, r.Name, err)
		s.forceDelete(r, id)
		waitExit(pidfd, pid, 10*time.Second)
		return
	}
	if err := waitExit(pidfd, pid, 10*time.Second); err != nil {
		s.res.fail(mDelete, r.Name, fmt.Errorf("container %s: %w", id, err))
		s.forceDelete(r, id)
		return
	}
	del, err := r.do(ctx, 0, "delete", id)
	if err != nil {
		s.res.fail(mDelete, r.Name, err)
		s.forceDelete(r, id)
		return
	}
	if !keep {
		return
	}
	s.res.add(mCreate, r.Name, ms(create.wall))
	s.res.add(mStart, r.Name, ms(start.wall))
	s.res.add(mDelete, r.Name, ms(del.wall))
	if hwmErr != nil {
		s.res.fail(mRSSInit, r.Name, hwmErr)
	} else {
		s.res.add(mRSSInit, r.Name, float64(initKiB)/1024)
	}
}

func (s *session) execOnce(ctx context.Context, r *ociRuntime, keep bool) {
	if ctx.Err() != nil {
		return // interrupted: measure nothing more, cleanup follows
	}
	sl := s.sleepers[r.Name]
	if sl == nil {
		return // could not start one: recorded as a failure of exec
	}
	out, err := r.do(ctx, 0, "exec", sl.id, "/bin/true")
	if err != nil {
		s.res.fail(mExec, r.Name, err)
		return
	}
	if keep {
		s.res.add(mExec, r.Name, ms(out.wall))
	}
}

// startSleepers starts, per runtime, the container that exec enters.
func (s *session) startSleepers(ctx context.Context) {
	s.sleepers = map[string]*sleeper{}
	for _, r := range s.rts {
		id := s.id(r, "sleep")
		pidFile := filepath.Join(s.opts.work, id+".pid")
		_, err := r.do(ctx, 0, "create", "--bundle", s.bundle.sleepDir, "--pid-file", pidFile, id)
		if err == nil {
			_, err = r.do(ctx, 0, "start", id)
		}
		var sl sleeper
		if err == nil {
			sl.id = id
			sl.pid, sl.pidfd, err = openPidFile(pidFile)
		}
		if err != nil {
			s.res.fail(mExec, r.Name, fmt.Errorf("start the container to exec into: %w", err))
			s.forceDelete(r, id)
			continue
		}
		s.sleepers[r.Name] = &sl
	}
}

func (s *session) stopSleepers() {
	for _, r := range s.rts {
		if sl := s.sleepers[r.Name]; sl != nil {
			s.forceDelete(r, sl.id)
			waitExit(sl.pidfd, sl.pid, 10*time.Second)
			unix.Close(sl.pidfd)
		}
	}
	reapOrphans()
}

// sequential is one batch of containers run one after another.
func (s *session) sequential(ctx context.Context, r *ociRuntime) {
	ids := make([]string, s.opts.seq)
	for j := range ids {
		ids[j] = s.id(r, "seq")
	}
	t0 := time.Now()
	for _, id := range ids {
		if _, err := r.do(ctx, 0, "run", "--bundle", s.bundle.trueDir, id); err != nil {
			s.res.fail(mSeq, r.Name, err)
			s.forceDelete(r, id)
			return
		}
	}
	s.res.add(mSeq, r.Name, time.Since(t0).Seconds())
}

// parallel is one batch of containers run by opts.par workers, each
// starting the next container as soon as its previous one is gone.
func (s *session) parallel(ctx context.Context, r *ociRuntime) {
	ids := make([]string, s.opts.parTotal)
	for j := range ids {
		ids[j] = s.id(r, "par")
	}
	var (
		next   atomic.Int64
		mu     sync.Mutex
		failed []string
		first  error
		wg     sync.WaitGroup
	)
	t0 := time.Now()
	for w := 0; w < s.opts.par; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				j := int(next.Add(1)) - 1
				if j >= len(ids) {
					return
				}
				if _, err := r.do(ctx, w, "run", "--bundle", s.bundle.trueDir, ids[j]); err != nil {
					mu.Lock()
					failed = append(failed, ids[j])
					if first == nil {
						first = err
					}
					mu.Unlock()
					next.Store(int64(len(ids))) // stop the batch: its time means nothing now
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	if first != nil {
		s.res.fail(mPar, r.Name, first)
		for _, id := range failed {
			s.forceDelete(r, id)
		}
		return
	}
	s.res.add(mPar, r.Name, elapsed.Seconds())
}

// forceDelete removes a container whatever its state, ignoring errors: it
// is the cleanup after a failure, and cleanup() checks at the end that
// nothing survived.
func (s *session) forceDelete(r *ociRuntime, id string) {
	r.do(context.Background(), 0, "delete", "--force", id)
}

// openPidFile reads the init's pid from a --pid-file and opens a pidfd on
// it at once, while the init still runs (it waits for start), so the pid
// cannot be reused before we look at it.
func openPidFile(path string) (int, int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, -1, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, -1, fmt.Errorf("pid file %s: %q is not a pid", path, data)
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return 0, -1, fmt.Errorf("init %d from %s: %w", pid, path, err)
	}
	return pid, fd, nil
}

// waitExit waits until the process exits and reaps it if it is our child
// (inits are, once their runtime exited: we are a subreaper).
func waitExit(pidfd, pid int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("pid %d still running after %v", pid, timeout)
		}
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(left/time.Millisecond)+1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n > 0 {
			break
		}
	}
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		if err != unix.EINTR {
			return nil
		}
	}
}

// reapOrphans reaps every child that has exited: orphans a runtime left
// (and that were reparented to us) must not pile up as zombies. Called
// only between measurements, when no runtime process of ours is running,
// so it cannot take the exit of a process exec.Cmd waits for.
func reapOrphans() {
	var ws unix.WaitStatus
	for {
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
	}
}

// vmHWM is the peak resident set of a process, in KiB, from
// /proc/<pid>/status.
func vmHWM(pid int) (uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("pid %d: no VmHWM in /proc/%d/status", pid, pid)
}
