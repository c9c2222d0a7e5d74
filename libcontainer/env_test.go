package libcontainer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer"
	_ "github.com/corral-oci/corral/libcontainer/nsenter"
	"github.com/corral-oci/corral/libcontainer/specconv"
)

// This test binary is a program as the README has it: it imports nsenter
// and calls Init when its first argument is "init".
func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		runtime.GOMAXPROCS(1)
		runtime.LockOSThread()
		libcontainer.Init()
		panic("libcontainer.Init returned")
	}
}

// embedderEnv makes this test binary, started again, play a program that
// embeds libcontainer: it creates and destroys a container in the state
// root the variable names.
const embedderEnv = "LIBCONTAINER_TEST_EMBEDDER"

func TestMain(m *testing.M) {
	if root := os.Getenv(embedderEnv); root != "" {
		if err := embedder(root); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		// _CORRAL_HOOKS without its marker must not make it
		// non-dumpable, as the hooks mode is.
		if d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); err != nil || d != 1 {
			fmt.Printf("dumpable %d (%v)", d, err)
			os.Exit(1)
		}
		fmt.Print("ran")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func embedder(root string) error {
	spec := specconv.Example()
	spec.Root.Path = filepath.Join(root, "rootfs")
	if err := os.Mkdir(spec.Root.Path, 0o755); err != nil {
		return err
	}
	rootless := os.Geteuid() != 0
	if rootless {
		specconv.ToRootless(spec)
	}
	cfg, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{
		CgroupName: "embedder", Spec: spec, RootlessEUID: rootless, RootlessCgroups: rootless,
	})
	if err != nil {
		return err
	}
	c, err := libcontainer.Create(filepath.Join(root, "state"), "embedder", cfg)
	if err != nil {
		return err
	}
	return c.Destroy()
}

// runSelf runs this test binary with args and the variables env, stdin a
// pipe that stays open and fd 3 /dev/null, and returns its output and
// how it ended.
func runSelf(t *testing.T, args, env []string) (stdout, stderr, status string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.Args = append([]string{exe}, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = r
	cmd.ExtraFiles = []*os.File{null}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		status = "hung"
	case err == nil:
		status = "exit 0"
	case errors.As(err, &ee):
		status = ee.String()
	default:
		t.Fatal(err)
	}
	return out.String(), errb.String(), status
}

// accidentalEnv is every variable that changes what libcontainer or the
// nsenter constructor does (doc.go), as a program could inherit them.
func accidentalEnv(dir string) []string {
	job := fmt.Sprintf(`{"criu":"/bin/false","rootfs":%q,"root":%q}`, filepath.Join(dir, "none"), dir)
	return []string{
		"_CORRAL_BOOTSTRAP=3",
		"_CORRAL_USERNS_HOLDER=1",
		"_CORRAL_CRIU_ROOT=" + job,
		"_CORRAL_WAIT=3,3,3,3,-1,-1,-1",
		"_CORRAL_HOOKS=3,3,3",
		"CORRAL_PHASES=" + filepath.Join(dir, "phases"),
		"CORRAL_TEST_PAUSE_AT=create:dir-made",
	}
}

// A program embedding libcontainer that inherited the variables runs as it
// would without them: the constructor lets it start, Create and Destroy
// neither stop nor write a phase trace.
func TestInheritedVariablesLeaveEmbedderAlone(t *testing.T) {
	dir := t.TempDir()
	env := append(accidentalEnv(dir), embedderEnv+"="+dir)
	stdout, stderr, status := runSelf(t, nil, env)
	if status != "exit 0" || stdout != "ran" {
		t.Fatalf("with %q: %s, stdout %q, stderr %q; want it to run as without them", env, status, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "phases")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the embedding program recorded phases: %v", err)
	}
}

// Started as "init" but not by the runtime, with the runtime's variables,
// Init does none of the runtime's jobs: it says so and exits.
func TestInitWithoutMarkerRefuses(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, status := runSelf(t, []string{"init"}, accidentalEnv(dir))
	if status != "exit status 1" || stdout != "" || !strings.Contains(stderr, "the runtime did not start this process") {
		t.Errorf("init without the runtime's marker: %s, stdout %q, stderr %q", status, stdout, stderr)
	}
	// With its marker the criu root helper runs (and fails to bind the
	// rootfs that does not exist): the test above is not vacuous.
	_, stderr, status = runSelf(t, []string{"init", "--corral-criu-root"}, accidentalEnv(dir))
	if status != "exit status 1" || !strings.Contains(stderr, "criu root helper: bind rootfs") {
		t.Errorf("the criu root helper with its marker: %s, stderr %q", status, stderr)
	}
}
