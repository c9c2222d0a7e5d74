package security

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/tests/integration/internal/itest"
)

// TestPtraceInitBeforeStart (issue 17 point 2) performs the attack on a
// created container's init: a process exec'd into the container with
// CAP_SYS_PTRACE added (and no CAP_SYS_ADMIN, no user namespace) seizes
// every thread of pid 1 and injects sethostname("pwned") into it
// (testdata/syscaller ptraceinit). Each thread must refuse the attach or
// get EPERM, and the container's hostname must stay.
//
// Before 9a856ec, init waited for start in Go, and Go's other threads
// kept every capability of the runtime until exec: the injection
// succeeded on them. Init now waits in a single-threaded C waiter with
// the program's credentials. With startContainer hooks, which need Go
// after start, init waited in Go until the waiter learnt to exec back
// into Go after start (the hooks mode): before that, that case failed
// (3 or 4 of 4-5 threads set the hostname).
//
// The victim whose program holds CAP_SYS_ADMIN shows that the technique
// works: there the injected call must succeed and change the hostname.
//
// The exec side needs no attack: `corral exec` sets up out of the
// container's sight (TestExecSetupInvisible).
func TestPtraceInitBeforeStart(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skipf("the attacker sets x86_64 registers to inject its system call; this machine is %s", runtime.GOARCH)
	}
	// The shipped build plus the test hooks, which act only when their
	// variables are set: the package's one build of corral.
	bin, err := hooksCorral()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		mod  func(*specs.Spec)
		// pwned: the program holds CAP_SYS_ADMIN, so its init may
		// set the hostname, and the injection must succeed.
		pwned bool
	}{
		{name: "waiter"},
		{name: "startContainerHook", mod: func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/true"}}}
		}},
		{name: "victimHoldsSysAdmin", pwned: true, mod: func(s *specs.Spec) {
			c := s.Process.Capabilities
			c.Bounding = append(c.Bounding, "CAP_SYS_ADMIN")
			c.Effective = append(c.Effective, "CAP_SYS_ADMIN")
			c.Permitted = append(c.Permitted, "CAP_SYS_ADMIN")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rootfs := newRootfs(t)
			installSyscaller(t, rootfs)
			e := itest.NewEnv(t, itest.Suite{Bin: bin, Rootfs: rootfs, CgroupParent: cgroupParent})
			id := e.ID()
			var attacker specs.Process
			bundle := e.Bundle(id, []string{"sleep", "1000"}, func(s *specs.Spec) {
				s.Hostname = "victim"
				// The attacker is the default process with
				// CAP_SYS_PTRACE added (as exec --cap would), in
				// every case: not what a victim's changes give it.
				attacker = *s.Process
				c := *s.Process.Capabilities
				c.Bounding = append(slices.Clone(c.Bounding), "CAP_SYS_PTRACE")
				c.Effective = append(slices.Clone(c.Effective), "CAP_SYS_PTRACE")
				c.Permitted = append(slices.Clone(c.Permitted), "CAP_SYS_PTRACE")
				attacker.Capabilities = &c
				attacker.Args = []string{"/bin/syscaller", "ptraceinit", "pwned"}
				if tc.mod != nil {
					tc.mod(s)
				}
			})
			b, err := json.Marshal(&attacker)
			if err != nil {
				t.Fatal(err)
			}
			process := filepath.Join(bundle, "attacker.json")
			if err := os.WriteFile(process, b, 0o644); err != nil {
				t.Fatal(err)
			}
			e.Must("create", "--bundle", bundle, id)
			t.Cleanup(func() { e.Must("delete", "--force", id) })

			r := e.Corral("exec", "--process", process, id)
			t.Logf("the attacker:\n%s%s", r.Stdout, r.Stderr)
			if r.Code != 0 {
				t.Fatalf("the attacker failed: %v", r)
			}
			hostname := strings.TrimSpace(e.Must("exec", id, "hostname"))
			if !strings.Contains(r.Stdout, "self sethostname errno=1\n") {
				t.Fatalf("the attacker could set the hostname itself (or did not try): the attack shows nothing")
			}
			threads, ran, succeeded := 0, 0, 0
			for _, l := range strings.Split(r.Stdout, "\n") {
				if !strings.HasPrefix(l, "tid=") {
					continue
				}
				threads++
				f := strings.Fields(l)
				attach, sys := strings.TrimPrefix(f[1], "attach="), strings.TrimPrefix(f[2], "syscall=")
				switch {
				case attach != "ok":
					// Refused: that thread is out of the attacker's reach.
				case sys == "errno=0":
					ran++
					succeeded++
				case strings.HasPrefix(sys, "errno="):
					ran++
					if sys != "errno=1" {
						t.Errorf("the injected sethostname failed otherwise than with EPERM: %s", l)
					}
				default:
					t.Errorf("attached, but the injection did not run, so the test shows nothing for that thread: %s", l)
				}
			}
			if threads == 0 {
				t.Fatal("the attacker found no thread of pid 1")
			}
			if tc.pwned {
				if succeeded == 0 || hostname != "pwned" {
					t.Errorf("the control case: the injection into an init holding CAP_SYS_ADMIN must succeed and set the hostname; %d of %d threads did, hostname %q", succeeded, threads, hostname)
				}
			} else {
				if succeeded > 0 {
					t.Errorf("%d of the %d threads of the created init ran sethostname for the attacker: they hold more than the container's program", succeeded, threads)
				}
				if hostname != "victim" {
					t.Errorf("the container's hostname is %q, want %q", hostname, "victim")
				}
			}
			t.Logf("%d thread(s) of pid 1, %d injection(s) ran, %d succeeded; hostname %q", threads, ran, succeeded, hostname)

			// The attacker put every thread back as it was: the
			// container still starts.
			e.Must("start", id)
			var st specs.State
			if err := json.Unmarshal([]byte(e.Must("state", id)), &st); err != nil {
				t.Fatal(err)
			}
			if st.Status != specs.StateRunning {
				t.Errorf("after the attack, the started container is %s, want running", st.Status)
			}
		})
	}
}
