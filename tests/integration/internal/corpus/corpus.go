// Package corpus holds the bundle corpus of tests/integration/testdata/
// bundles: config.json files as other tools write them (runc spec, the
// engines, the runtime-spec's example). Normalize turns a captured config
// into its corpus form, with the paths that only meant something on the
// capturing host replaced by placeholders; Instantiate turns it back into
// a config that runs on this host, in a given bundle. Everything else in
// the config is kept as the tool wrote it, field for field.
package corpus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// Placeholders of the corpus form.
const (
	// Cgroup stands for linux.cgroupsPath: the test's own cgroup.
	Cgroup = "$CGROUP"
	// BundleDir starts a bind mount's source that was a file the engine
	// made for the container (its /etc/hostname, /etc/hosts,
	// /etc/resolv.conf, /dev/shm): Instantiate makes it in the bundle.
	BundleDir = "$BUNDLE"
	// Temp stands for the engine's temporary directory in annotations,
	// which only engines read.
	Temp = "$TEMP"
)

// HostPaths are what Normalize must replace in a captured config.
type HostPaths struct {
	// Temp are the directories the capturing engine kept its state in:
	// a bind mount source under one is a file it made for the container.
	Temp []string
}

// Normalize returns the corpus form of the config.json raw: root.path is
// "rootfs"; linux.cgroupsPath, when set, is Cgroup; namespaces keep their
// type but not their path (the processes that held them are gone: a
// container of a pod gets namespaces of its own); hooks are dropped (they
// run the engine's binaries against its state, which are gone too); a
// mount source under one of host.Temp becomes BundleDir/files/ and its
// base name, with "/" appended for a directory; annotations name Temp
// for those directories. The output is indented
// with tabs, keys sorted, as runc spec writes it.
func Normalize(raw []byte, host HostPaths) ([]byte, error) {
	spec, err := decode(raw)
	if err != nil {
		return nil, err
	}
	if root, ok := spec["root"].(map[string]any); ok {
		root["path"] = "rootfs"
	}
	delete(spec, "hooks")
	if ann, ok := spec["annotations"].(map[string]any); ok {
		for k, v := range ann {
			if s, ok := v.(string); ok {
				for _, tmp := range host.Temp {
					s = strings.ReplaceAll(s, strings.TrimSuffix(tmp, "/"), Temp)
				}
				ann[k] = s
			}
		}
	}
	if linux, ok := spec["linux"].(map[string]any); ok {
		if _, ok := linux["cgroupsPath"]; ok {
			linux["cgroupsPath"] = Cgroup
		}
		if nss, ok := linux["namespaces"].([]any); ok {
			for i, ns := range nss {
				m, ok := ns.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("linux.namespaces[%d]: not an object", i)
				}
				delete(m, "path")
			}
		}
	}
	mounts, _ := spec["mounts"].([]any)
	for i, m := range mounts {
		mount, ok := m.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("mounts[%d]: not an object", i)
		}
		src, _ := mount["source"].(string)
		for _, tmp := range host.Temp {
			if src != tmp && !strings.HasPrefix(src, strings.TrimSuffix(tmp, "/")+"/") {
				continue
			}
			name := BundleDir + "/files/" + filepath.Base(src)
			// The engine may have removed the source by now (a pod's
			// shm); /dev/shm is the one directory engines bind.
			fi, err := os.Stat(src)
			if (err == nil && fi.IsDir()) || (err != nil && mount["destination"] == "/dev/shm") {
				name += "/"
			}
			mount["source"] = name
			break
		}
	}
	return encode(spec)
}

// Host is where Instantiate places a corpus config.
type Host struct {
	// Bundle is the bundle directory; files BundleDir names are made
	// under it.
	Bundle string
	// Rootfs is root.path (absolute, or relative to Bundle).
	Rootfs string
	// CgroupsPath replaces Cgroup.
	CgroupsPath string
}

// Instantiate returns the config of corpus form raw for host: root.path
// and linux.cgroupsPath set, and every mount source under BundleDir made
// (an empty file, or a directory when it ends in "/") under host.Bundle
// and named by its absolute path.
func Instantiate(raw []byte, host Host) ([]byte, error) {
	spec, err := decode(raw)
	if err != nil {
		return nil, err
	}
	root, ok := spec["root"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("root: missing")
	}
	root["path"] = host.Rootfs
	if linux, ok := spec["linux"].(map[string]any); ok {
		if p, _ := linux["cgroupsPath"].(string); p == Cgroup {
			linux["cgroupsPath"] = host.CgroupsPath
		}
	}
	mounts, _ := spec["mounts"].([]any)
	for i, m := range mounts {
		mount, ok := m.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("mounts[%d]: not an object", i)
		}
		src, _ := mount["source"].(string)
		rel, ok := strings.CutPrefix(src, BundleDir+"/")
		if !ok {
			continue
		}
		path := filepath.Join(host.Bundle, rel)
		if strings.HasSuffix(rel, "/") {
			err = os.MkdirAll(path, 0o755)
		} else if err = os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
			err = os.WriteFile(path, nil, 0o644)
		}
		if err != nil {
			return nil, fmt.Errorf("mounts[%d]: make source %s: %w", i, path, err)
		}
		mount["source"] = path
	}
	return encode(spec)
}

func decode(raw []byte) (map[string]any, error) {
	var spec map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	// Numbers stay as written: a uid of 4294967295 or a memory limit
	// must not pass through a float64.
	d.UseNumber()
	if err := d.Decode(&spec); err != nil {
		return nil, fmt.Errorf("decode config.json: %w", err)
	}
	return spec, nil
}

func encode(spec map[string]any) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetIndent("", "\t")
	e.SetEscapeHTML(false)
	if err := e.Encode(spec); err != nil {
		return nil, fmt.Errorf("encode config.json: %w", err)
	}
	return b.Bytes(), nil
}

// Dir is the corpus directory of the source tree.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "bundles")
}

// Write stores the corpus config of name as Dir()/name.json.
func Write(name string, data []byte) error {
	if err := os.MkdirAll(Dir(), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(Dir(), name+".json"), data, 0o644)
}

// Names are the configs of the corpus, without ".json", sorted.
func Names() ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(Dir(), "*.json"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, p := range paths {
		names = append(names, strings.TrimSuffix(filepath.Base(p), ".json"))
	}
	sort.Strings(names)
	return names, nil
}
