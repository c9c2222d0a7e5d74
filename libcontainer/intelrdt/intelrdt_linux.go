package intelrdt

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// ErrNotMounted is Root's answer on a host without a resctrl mount:
// linux.intelRdt then cannot be honoured, and is refused.
var ErrNotMounted = errors.New("no resctrl filesystem is mounted (mount -t resctrl resctrl /sys/fs/resctrl; the CPU needs Intel RDT or AMD PQoS)")

// Root returns where resctrl is mounted in the runtime's mount
// namespace. It is read each time: unlike the machine's shape, a mount
// comes and goes.
func Root() (string, error) {
	// The usual place first, without reading mountinfo.
	var st unix.Statfs_t
	if unix.Statfs("/sys/fs/resctrl", &st) == nil && st.Type == unix.RDTGROUP_SUPER_MAGIC {
		return "/sys/fs/resctrl", nil
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("find the resctrl mount: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		// "id parent maj:min root mountpoint opts [optional...] - fstype source superopts"
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		if fs, _, _ := strings.Cut(post, " "); fs != "resctrl" {
			continue
		}
		fields := strings.Fields(pre)
		if len(fields) >= 5 {
			return unescapeMountPath(fields[4]), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("find the resctrl mount: %w", err)
	}
	return "", ErrNotMounted
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Features are what the resctrl mount at a root offers.
type Features struct {
	// CAT: L3 cache allocation (l3CacheSchema); with CDP the kernel
	// splits L3 into L3CODE and L3DATA.
	CAT bool
	// MBA: memory bandwidth allocation (memBwSchema).
	MBA bool
	// Monitoring: monitoring groups (enableMonitoring), with the
	// counters listed in info/L3_MON/mon_features.
	Monitoring  bool
	MonFeatures []string
}

// Probe reads the features of the resctrl mount at root.
func Probe(root string) Features {
	exists := func(p string) bool {
		_, err := os.Stat(filepath.Join(root, "info", p))
		return err == nil
	}
	f := Features{
		CAT:        exists("L3") || exists("L3CODE"),
		MBA:        exists("MB"),
		Monitoring: exists("L3_MON"),
	}
	if b, err := os.ReadFile(filepath.Join(root, "info", "L3_MON", "mon_features")); err == nil {
		f.MonFeatures = strings.Fields(string(b))
	}
	return f
}

// Manager is a container's place in resctrl: its control group and,
// with monitoring, its monitoring group there.
type Manager struct {
	cfg  *configs.IntelRdt
	id   string
	root string
	path string
	// made lists the directories Prepare made, to undo a failed start.
	made []string
}

// NewManager finds the resctrl mount for a container's cfg.
func NewManager(cfg *configs.IntelRdt, id string) (*Manager, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(root, GroupName(cfg, id))
	if !strings.HasPrefix(path, root+"/") && path != root {
		return nil, fmt.Errorf("intel_rdt.closID %q: not a resctrl group name", cfg.ClosID)
	}
	return &Manager{cfg: cfg, id: id, root: root, path: path}, nil
}

// Existing is the manager of a started container whose control group
// is at path: for an update.
func Existing(cfg *configs.IntelRdt, id, path string) (*Manager, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	return &Manager{cfg: cfg, id: id, root: root, path: path}, nil
}

// Path is the container's control group directory.
func (m *Manager) Path() string { return m.path }

// MonPath is the container's monitoring group directory, or "" without
// monitoring.
func MonPath(cfg *configs.IntelRdt, id, path string) string {
	if !cfg.EnableMonitoring || path == "" {
		return ""
	}
	return filepath.Join(path, "mon_groups", id)
}

// Prepare makes or checks the container's groups and sets the
// allocation, and returns the TasksFiles of init.
func (m *Manager) Prepare() (_ []string, retErr error) {
	defer func() {
		if retErr != nil {
			m.Undo()
		}
	}()
	lines := Lines(m.cfg)
	_, err := os.Stat(m.path)
	exists := err == nil
	switch {
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("intel_rdt: resctrl group %s: %w", m.path, err)
	case Owned(m.cfg) || !exists:
		if !Owned(m.cfg) && len(lines) == 0 {
			return nil, fmt.Errorf("intel_rdt.closID %q: no such resctrl group in %s, and no schemata to make it with", m.cfg.ClosID, m.root)
		}
		if err := m.mkdir(m.path); err != nil {
			return nil, fmt.Errorf("intel_rdt: make resctrl group %s: %w", m.path, err)
		}
		if len(lines) > 0 {
			if err := m.writeSchemata(lines); err != nil {
				return nil, err
			}
		}
	case len(lines) > 0:
		// A group that exists is someone else's: join it only if it
		// grants what the config asks.
		have, err := os.ReadFile(filepath.Join(m.path, "schemata"))
		if err != nil {
			return nil, fmt.Errorf("intel_rdt.closID %q: read %s/schemata: %w", m.cfg.ClosID, m.path, err)
		}
		if err := Compare(lines, string(have)); err != nil {
			return nil, fmt.Errorf("intel_rdt.closID %q: the existing group's schemata differ from the config's: %w", m.cfg.ClosID, err)
		}
	}
	if mon := MonPath(m.cfg, m.id, m.path); mon != "" {
		if err := unix.Mkdir(mon, 0o755); err != nil {
			// EEXIST too: another container's counters are not ours.
			return nil, fmt.Errorf("intel_rdt.enableMonitoring: make monitoring group %s: %w", mon, m.explain(err))
		}
		m.made = append(m.made, mon)
	}
	return TasksFiles(m.cfg, m.id, m.path), nil
}

// TasksFiles are the "tasks" files a process of the container whose
// control group is at path writes itself to, in order: the control group
// before its monitoring group, which takes only tasks of its parent.
func TasksFiles(cfg *configs.IntelRdt, id, path string) []string {
	if cfg == nil || path == "" {
		return nil
	}
	tasks := []string{filepath.Join(path, "tasks")}
	if mon := MonPath(cfg, id, path); mon != "" {
		tasks = append(tasks, filepath.Join(mon, "tasks"))
	}
	return tasks
}

// mkdir makes a control group; one that exists is joined, as runc does.
func (m *Manager) mkdir(path string) error {
	err := unix.Mkdir(path, 0o755)
	if errors.Is(err, unix.EEXIST) {
		return nil
	}
	if err != nil {
		return m.explain(err)
	}
	m.made = append(m.made, path)
	return nil
}

// Undo removes the directories Prepare made, the newest first.
func (m *Manager) Undo() {
	for i := len(m.made) - 1; i >= 0; i-- {
		unix.Rmdir(m.made[i])
	}
	m.made = nil
}

// Set writes the allocation of cfg to the container's control group: an
// update of a running container.
func (m *Manager) Set(cfg *configs.IntelRdt) error {
	lines := Lines(cfg)
	if len(lines) == 0 {
		return nil
	}
	return m.writeSchemata(lines)
}

// writeSchemata writes every line in one write: the kernel applies them
// together or refuses them all.
func (m *Manager) writeSchemata(lines []string) error {
	p := filepath.Join(m.path, "schemata")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0); err != nil {
		return fmt.Errorf("intel_rdt: write %q to %s: %w", lines, p, m.explain(err))
	}
	return nil
}

// explain adds the kernel's own words, which resctrl keeps in
// info/last_cmd_status, to the bare errno of a failed write or mkdir.
func (m *Manager) explain(err error) error {
	b, rerr := os.ReadFile(filepath.Join(m.root, "info", "last_cmd_status"))
	if s := strings.TrimSpace(string(b)); rerr == nil && s != "" && s != "ok" {
		return fmt.Errorf("%w (resctrl: %s)", err, s)
	}
	return err
}

// Remove removes what a container had in resctrl once its processes are
// gone: its monitoring group, and its control group if the runtime made
// it for the container. A group already gone is not an error.
func Remove(cfg *configs.IntelRdt, id, path string) error {
	if cfg == nil || path == "" {
		return nil
	}
	var errs []error
	if mon := MonPath(cfg, id, path); mon != "" {
		if err := unix.Rmdir(mon); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("remove resctrl monitoring group %s: %w", mon, err))
		}
	}
	if Owned(cfg) {
		if err := unix.Rmdir(path); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("remove resctrl group %s: %w", path, err))
		}
	}
	return errors.Join(errs...)
}

// GetStats reads the figures of a container whose control group is at
// path.
func GetStats(cfg *configs.IntelRdt, id, path string) (*Stats, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	s := &Stats{}
	rootSchemata, err := os.ReadFile(filepath.Join(root, "schemata"))
	if err != nil {
		return nil, fmt.Errorf("intel_rdt: %w", err)
	}
	schemata, err := os.ReadFile(filepath.Join(path, "schemata"))
	if err != nil {
		return nil, fmt.Errorf("intel_rdt: %w", err)
	}
	s.L3CacheSchemaRoot, s.MemBwSchemaRoot = lineOf(string(rootSchemata), "L3"), lineOf(string(rootSchemata), "MB")
	s.L3CacheSchema, s.MemBwSchema = lineOf(string(schemata), "L3"), lineOf(string(schemata), "MB")
	mon := MonPath(cfg, id, path)
	if mon == "" {
		return s, nil
	}
	domains, err := os.ReadDir(filepath.Join(mon, "mon_data"))
	if err != nil {
		return nil, fmt.Errorf("intel_rdt: %w", err)
	}
	feats := Probe(root).MonFeatures
	has := func(f string) bool {
		for _, x := range feats {
			if x == f {
				return true
			}
		}
		return false
	}
	for _, d := range domains {
		if !strings.HasPrefix(d.Name(), "mon_L3_") {
			continue
		}
		dir := filepath.Join(mon, "mon_data", d.Name())
		if has("mbm_total_bytes") || has("mbm_local_bytes") {
			var mbm MBMStats
			if has("mbm_total_bytes") {
				if mbm.TotalBytes, err = readCounter(dir, "mbm_total_bytes"); err != nil {
					return nil, err
				}
			}
			if has("mbm_local_bytes") {
				if mbm.LocalBytes, err = readCounter(dir, "mbm_local_bytes"); err != nil {
					return nil, err
				}
			}
			s.MBM = append(s.MBM, mbm)
		}
		if has("llc_occupancy") {
			occ, err := readCounter(dir, "llc_occupancy")
			if err != nil {
				return nil, err
			}
			s.CMT = append(s.CMT, CMTStats{LLCOccupancy: occ})
		}
	}
	return s, nil
}

func readCounter(dir, name string) (uint64, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return 0, fmt.Errorf("intel_rdt: %w", err)
	}
	v := strings.TrimSpace(string(b))
	if v == "Unavailable" {
		// The hardware has no figure for this domain yet.
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("intel_rdt: %s/%s: %q is not a count", dir, name, v)
	}
	return n, nil
}
