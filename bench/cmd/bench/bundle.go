package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// bundles are the two bundles every runtime runs: the same rootfs and the
// same config, so that the runtimes do the same work.
type bundles struct {
	trueDir  string // runs /bin/true: run, create/start/delete, throughput
	sleepDir string // runs sleep 1000: the container exec enters
}

// ociVersion is written into the config: crun 1.8 refuses any version it
// does not know ("unknown version specified", 1.3.0 included), and 1.0.2
// is the newest that runc 1.1 (spec 1.0.2-dev), crun 1.8 and corral all
// accept. Nothing in the config needs a later version.
const ociVersion = "1.0.2"

// prepareBundles rewrites dir/config.json (as `corral spec` wrote it) to
// run /bin/true without a terminal, and writes a second bundle in
// sleepDir, identical but for its command and an absolute root path to
// the same rootfs. The config is edited as a generic JSON object so that
// every field `corral spec` wrote is kept as it is.
func prepareBundles(dir, sleepDir string) (bundles, error) {
	path := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return bundles{}, fmt.Errorf("read the bundle's config (write it with `corral spec`): %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "rootfs", "bin", "true")); err != nil {
		return bundles{}, fmt.Errorf("bundle rootfs (build it with tests/rootfs/build.sh): %w", err)
	}
	edit := func(args []string, root string) ([]byte, error) {
		var spec map[string]any
		if err := json.Unmarshal(data, &spec); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		proc, ok1 := spec["process"].(map[string]any)
		rootObj, ok2 := spec["root"].(map[string]any)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s: no process or root object", path)
		}
		spec["ociVersion"] = ociVersion
		proc["terminal"] = false
		proc["args"] = args
		rootObj["path"] = root
		return json.MarshalIndent(spec, "", "\t")
	}
	trueCfg, err := edit([]string{"/bin/true"}, "rootfs")
	if err != nil {
		return bundles{}, err
	}
	if err := os.WriteFile(path, trueCfg, 0o644); err != nil {
		return bundles{}, err
	}
	sleepCfg, err := edit([]string{"/bin/sleep", "1000"}, filepath.Join(dir, "rootfs"))
	if err != nil {
		return bundles{}, err
	}
	if err := os.MkdirAll(sleepDir, 0o755); err != nil {
		return bundles{}, err
	}
	if err := os.WriteFile(filepath.Join(sleepDir, "config.json"), sleepCfg, 0o644); err != nil {
		return bundles{}, err
	}
	return bundles{trueDir: dir, sleepDir: sleepDir}, nil
}
