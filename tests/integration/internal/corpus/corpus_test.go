package corpus

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the corpus bundles this package derives (runc spec, the runtime-spec's example, the seccomp profiles)")

func TestNormalizeInstantiate(t *testing.T) {
	tmp := t.TempDir()
	if err := os.Mkdir(filepath.Join(tmp, "shm"), 0o755); err != nil {
		t.Fatal(err)
	}
	raw := `{"ociVersion":"1.0.2","root":{"path":"` + tmp + `/rootfs","readonly":true},
		"hooks":{"prestart":[{"path":"/usr/bin/engine-hook"}]},
		"annotations":{"log":"` + tmp + `/logs/x","other":"kept"},
		"mounts":[{"destination":"/etc/hosts","type":"bind","source":"` + tmp + `/hosts"},
			{"destination":"/dev/shm","type":"bind","source":"` + tmp + `/shm"},
			{"destination":"/proc","type":"proc","source":"proc"},
			{"destination":"/dev/shm","type":"bind","source":"` + tmp + `/gone"}],
		"linux":{"cgroupsPath":"/engine/abc","namespaces":[{"type":"pid"},{"type":"network","path":"/proc/42/ns/net"}],
			"resources":{"memory":{"limit":9223372036854775807}}}}`
	out, err := Normalize([]byte(raw), HostPaths{Temp: []string{tmp + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), tmp) || strings.Contains(string(out), "/proc/42") || strings.Contains(string(out), "engine-hook") {
		t.Fatalf("normalised config keeps a host path or the hooks:\n%s", out)
	}
	for _, want := range []string{`"path": "rootfs"`, `"cgroupsPath": "$CGROUP"`, `"source": "$BUNDLE/files/hosts"`,
		`"source": "$BUNDLE/files/shm/"`, `"source": "$BUNDLE/files/gone/"`, `"log": "$TEMP/logs/x"`, `"other": "kept"`, `"limit": 9223372036854775807`, `"type": "network"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("normalised config lacks %s:\n%s", want, out)
		}
	}

	bundle := t.TempDir()
	inst, err := Instantiate(out, Host{Bundle: bundle, Rootfs: "/rf", CgroupsPath: "/test/cg"})
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Root   struct{ Path string }
		Mounts []struct{ Source string }
		Linux  struct{ CgroupsPath string }
	}
	if err := json.Unmarshal(inst, &spec); err != nil {
		t.Fatal(err)
	}
	if spec.Root.Path != "/rf" || spec.Linux.CgroupsPath != "/test/cg" {
		t.Errorf("instantiated root %q, cgroupsPath %q", spec.Root.Path, spec.Linux.CgroupsPath)
	}
	if fi, err := os.Stat(spec.Mounts[0].Source); err != nil || !fi.Mode().IsRegular() || !strings.HasPrefix(spec.Mounts[0].Source, bundle) {
		t.Errorf("hosts source %q: want a file in the bundle (%v)", spec.Mounts[0].Source, err)
	}
	if fi, err := os.Stat(spec.Mounts[1].Source); err != nil || !fi.IsDir() {
		t.Errorf("shm source %q: want a directory (%v)", spec.Mounts[1].Source, err)
	}
	if spec.Mounts[2].Source != "proc" {
		t.Errorf("proc source %q changed", spec.Mounts[2].Source)
	}
}

func TestDockerSeccomp(t *testing.T) {
	prof := []byte(`{"defaultAction":"SCMP_ACT_ERRNO","archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86"]}],
		"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"},
			{"names":["mount"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_ADMIN"]}},
			{"names":["clone"],"action":"SCMP_ACT_ALLOW","excludes":{"caps":["CAP_SYS_ADMIN"]}},
			{"names":["arch_prctl"],"action":"SCMP_ACT_ALLOW","includes":{"arches":["amd64"]}},
			{"names":["set_tls"],"action":"SCMP_ACT_ALLOW","includes":{"arches":["arm"]}}]}`)
	s, err := DockerSeccomp(prof, []string{"CAP_KILL"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(s)
	want := `{"architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"action":"SCMP_ACT_ALLOW","names":["read"]},{"action":"SCMP_ACT_ALLOW","names":["clone"]},{"action":"SCMP_ACT_ALLOW","names":["arch_prctl"]}]}`
	if string(b) != want {
		t.Errorf("DockerSeccomp:\n got %s\nwant %s", b, want)
	}
}

// TestDerived checks that the corpus bundles made from other sources
// than the engines are what those sources make today, and with -update
// rewrites them.
func TestDerived(t *testing.T) {
	src := filepath.Join(Dir(), "sources")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(Dir(), name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	check := func(t *testing.T, name string, raw []byte) {
		out, err := Normalize(raw, HostPaths{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if *update {
			if err := Write(name, out); err != nil {
				t.Fatal(err)
			}
			return
		}
		if have := read(name + ".json"); !bytes.Equal(have, out) {
			t.Errorf("%s.json is not what its source makes today: run go test -update here\n%s", name, out)
		}
	}

	t.Run("RuncSpec", func(t *testing.T) {
		if _, err := exec.LookPath("runc"); err != nil {
			t.Skip("skipping: no runc on PATH (Debian: apt-get install runc)")
		}
		for name, args := range map[string][]string{"runc-spec": nil, "runc-spec-rootless": {"--rootless"}} {
			dir := t.TempDir()
			cmd := exec.Command("runc", append([]string{"spec", "--bundle", dir}, args...)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("runc spec %v: %v: %s", args, err, out)
			}
			raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			check(t, name, raw)
		}
	})

	t.Run("RuntimeSpecExample", func(t *testing.T) {
		raw, err := os.ReadFile(filepath.Join(src, "runtime-spec-1.3.0-example.json"))
		if err != nil {
			t.Fatal(err)
		}
		check(t, "runtime-spec-example", raw)
	})

	t.Run("RuntimeToolsGenerate", func(t *testing.T) {
		raw, err := os.ReadFile(filepath.Join(src, "runtime-tools-0.9.0-generate.json"))
		if err != nil {
			t.Fatal(err)
		}
		check(t, "runtime-tools-generate", raw)
	})

	t.Run("Seccomp", func(t *testing.T) {
		// The profiles as dockerd puts them into a plain container's
		// config: docker-plain.json with the profile of another year.
		base := read("docker-plain.json")
		var spec struct {
			Process struct{ Capabilities struct{ Bounding []string } }
		}
		if err := json.Unmarshal(base, &spec); err != nil {
			t.Fatal(err)
		}
		for name, profile := range map[string]string{
			"seccomp-docker-2017":  "docker-1.13.1-seccomp.json",
			"seccomp-docker-today": "docker-28.3.3-seccomp.json",
		} {
			p, err := os.ReadFile(filepath.Join(src, profile))
			if err != nil {
				t.Fatal(err)
			}
			s, err := DockerSeccomp(p, spec.Process.Capabilities.Bounding)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := WithSeccomp(base, s)
			if err != nil {
				t.Fatal(err)
			}
			check(t, name, raw)
		}
	})
}
