package lib

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
)

// TestReadmeSample runs the spec's README sample (examples/readme) and
// checks what its container sees.
func TestReadmeSample(t *testing.T) {
	bin := os.Getenv("CORRAL_README_BIN")
	if bin == "" {
		if _, err := exec.LookPath("go"); err != nil {
			t.Skip("no go toolchain to build examples/readme, and no CORRAL_README_BIN")
		}
		bin = filepath.Join(t.TempDir(), "readme")
		if out, err := exec.Command("go", "build", "-o", bin, "../../../examples/readme").CombinedOutput(); err != nil {
			t.Fatalf("build examples/readme: %v\n%s", err, out)
		}
	}
	out, err := exec.Command(bin, busybox).CombinedOutput()
	if err != nil {
		t.Fatalf("readme: %v\n%s", err, out)
	}
	got := string(out)
	for _, want := range []string{
		"hostname=testing",
		"uid=1", // the sample runs as "daemon"
		"pid=1",
		"nofile=1025",
		// CAP_KILL (5) and CAP_AUDIT_WRITE (29) only; a non-root user
		// keeps none of them across exec without ambient capabilities.
		"CapBnd:\t0000000020000020",
		"CapEff:\t0000000000000000",
		"firmware=0",
		"proc-sys-readonly",
		"0       1000      65536",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("readme output lacks %q:\n%s", want, got)
		}
	}
	if !strings.Contains(got, "kcore=0") && !strings.Contains(got, "kcore=absent") {
		t.Errorf("/proc/kcore is not masked:\n%s", got)
	}
	if !strings.Contains(got, "lo: <LOOPBACK,UP") {
		t.Errorf("loopback is not up:\n%s", got)
	}
}

func TestHostnameAndDomainname(t *testing.T) {
	cfg := newConfig(t, busybox)
	cfg.Hostname = "box"
	cfg.Domainname = "example.org"
	out := sh(t, cfg, "hostname; cat /proc/sys/kernel/domainname")
	if out != "box\nexample.org\n" {
		t.Fatalf("got %q", out)
	}
	host, _ := os.Hostname()
	if host == "box" {
		t.Fatal("the host's hostname changed")
	}
}

func TestExitCode(t *testing.T) {
	res, err := run(t, newConfig(t, busybox), []string{"/bin/sh", "-c", "exit 42"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != 42 {
		t.Fatalf("exit code %d, want 42", res.Code)
	}
}

func TestSignalledExit(t *testing.T) {
	res, err := run(t, newConfig(t, busybox), []string{"/bin/sleep", "100"}, func(p *libcontainer.Process) {
		go func() {
			for {
				if _, err := p.Pid(); err == nil {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond)
			p.Signal(unix.SIGKILL)
		}()
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != 128+9 {
		t.Fatalf("exit code %d, want 137", res.Code)
	}
}
