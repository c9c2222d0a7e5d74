package reliability

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/corral-oci/corral/libcontainer"
)

// The fuzzers of bad input, by what they feed (issue 8):
//
//	config.json parsing     libcontainer/specconv  FuzzLoadSpec
//	spec conversion         libcontainer/specconv  FuzzCreateLibcontainerConfig
//	config validation       libcontainer/configs/validate  FuzzValidate
//	bootstrap message       libcontainer/nsenter   FuzzParse
//	state file              here                   FuzzStateFile
//	container id            here                   FuzzValidateID
//
// Their seed corpora are in testdata/fuzz/<FuzzName>/ next to each, and
// run as plain tests with `go test`; `go test -fuzz=FuzzStateFile
// ./tests/integration/reliability/` fuzzes (as root).

// FuzzValidateID checks libcontainer.ValidateID: it never panics, and an
// id it accepts is one path element that names a directory under the
// state root: no '/', no NUL, not "." or "..", 1 to 1024 bytes.
func FuzzValidateID(f *testing.F) {
	for _, s := range []string{
		"", ".", "..", "...", "a", "a/b", "/", "../x", "x/..", "abc-DEF_1.2+3",
		strings.Repeat("x", 1024), strings.Repeat("x", 1025), "a\x00b", "é", "\xff",
		" space", "-leading-dash", ".hidden", "a\nb", "*", "$(id)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		err := libcontainer.ValidateID(id)
		if err != nil {
			if !errors.Is(err, libcontainer.ErrInvalidID) {
				t.Errorf("ValidateID(%q): %v is not ErrInvalidID", id, err)
			}
			return
		}
		switch {
		case len(id) < 1 || len(id) > 1024:
			t.Errorf("ValidateID accepts %q of length %d", id, len(id))
		case strings.ContainsAny(id, "/\x00"):
			t.Errorf("ValidateID accepts %q, which is not one path element", id)
		case id == "." || id == "..":
			t.Errorf("ValidateID accepts %q", id)
		case filepath.Dir(filepath.Join("/run/corral", id)) != "/run/corral":
			t.Errorf("ValidateID accepts %q, which is not a directory of the state root", id)
		}
	})
}

// FuzzStateFile loads a container whose state.json is the input:
// libcontainer.Load returns a container or an error, never panics, and
// Status, State, OCIState and Destroy of what it returns do not panic.
//
// The library's state code is unexported, so the file goes through
// Load. Destroy kills processes, removes cgroups and runs poststop hooks
// named in the file: it runs only on states that name no hook, no
// cgroup and no live process, so that the fuzzer cannot hurt the host.
func FuzzStateFile(f *testing.F) {
	for _, s := range []string{
		"", "{}", "null", "[]", `"x"`, "0", `{"id":"fuzz"}`, `{"id":"other"}`,
		`{"id":"fuzz","init_process_pid":-1}`,
		`{"id":"fuzz","init_process_pid":2147483647,"init_process_start":18446744073709551615}`,
		`{"id":"fuzz","init_process_pid":1,"init_process_start":0}`,
		`{"id":"fuzz","config":{"rootfs":"/"},"namespace_paths":{"NEWNET":"/proc/1/ns/net"}}`,
		`{"id":"fuzz","config":{"hooks":{"poststop":[]}}}`,
		`{"id":"fuzz","config":{"cgroups":null},"cgroup_paths":{}}`,
		`{"id":"fuzz","created":"not a time"}`,
		`{"id":"fuzz","config":{"mounts":[null]}}`,
		`{"id":"fuzz"`, "\xff\xfe", strings.Repeat("[", 10000),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		root := t.TempDir()
		const id = "fuzz"
		dir := filepath.Join(root, id)
		if err := os.Mkdir(dir, 0o711); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "state.json"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := libcontainer.Load(root, id)
		if err != nil {
			if c != nil {
				t.Errorf("Load returned a container and an error: %v", err)
			}
			return
		}
		if c == nil {
			t.Fatal("Load returned neither a container nor an error")
		}
		st, err := c.State()
		if err != nil {
			// The file was read once by Load; it has not changed.
			t.Errorf("Load succeeded but State fails: %v", err)
			return
		}
		if st == nil {
			t.Fatal("State returned neither a state nor an error")
		}
		c.Status()
		c.OCIState()
		if !harmless(st) {
			return
		}
		if err := c.Destroy(); err != nil {
			t.Logf("Destroy: %v", err)
			return
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("Destroy succeeded but left %s", dir)
		}
	})
}

// harmless reports whether destroying a container with state st can
// touch nothing but its state directory: no hook, no cgroup, no process
// that exists.
func harmless(st *libcontainer.State) bool {
	for _, hooks := range st.Config.Hooks {
		if len(hooks) > 0 {
			return false
		}
	}
	if st.Config.Cgroups != nil || len(st.CgroupPaths) > 0 || st.IntelRdtPath != "" {
		return false
	}
	if st.InitProcessPid > 0 {
		if _, err := os.Stat("/proc/" + strconv.Itoa(st.InitProcessPid)); err == nil {
			return false
		}
	}
	return true
}
