package main

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Metric keys, as they appear in the JSON.
const (
	mRun        = "run"
	mCreate     = "create"
	mStart      = "start"
	mDelete     = "delete"
	mExec       = "exec"
	mSeq        = "seq"
	mPar        = "par"
	mRSSRuntime = "rss_runtime"
	mRSSWait4   = "rss_wait4"
	mRSSInit    = "rss_init"
	mCPURun     = "cpu_run"
	mSize       = "binary_size"
)

type metricDef struct {
	key, title, unit string
	desc             string
}

func metricDefs(o options) []metricDef {
	return []metricDef{
		{mRun, "run /bin/true", "ms", "wall time of `<rt> --root R run --bundle B id`, from fork to reaping the runtime"},
		{mCreate, "create", "ms", "wall time of `create --pid-file`, stdio /dev/null and a file"},
		{mStart, "start", "ms", "wall time of `start` of the created container"},
		{mDelete, "delete", "ms", "wall time of `delete` of the stopped (exited and reaped) container"},
		{mExec, "exec /bin/true", "ms", "wall time of `exec id /bin/true` into a running `sleep 1000` container"},
		{mSeq, fmt.Sprintf("%d x run, sequential", o.seq), "s", "total wall time of the batch"},
		{mPar, fmt.Sprintf("%d x run, %d at a time", o.parTotal, o.par), "s", "total wall time of the batch"},
		{mRSSRuntime, "peak RSS, runtime in run", "MiB", "hiwater_rss of the runtime process's own mm at its exit (taskstats exit record), children excluded"},
		{mRSSWait4, "ru_maxrss of run", "MiB", "wait4 ru_maxrss of the runtime: max of itself and every descendant it reaped (e.g. the re-executed init)"},
		{mRSSInit, "peak RSS, init at create", "MiB", "VmHWM of the --pid-file process after create, before start: all of init's setup, before its exec"},
		{mCPURun, "CPU time of run", "ms", "user+system time of run, the runtime and its reaped descendants"},
		{mSize, "binary size", "MiB", "size of the runtime's executable file (shared libraries not counted)"},
	}
}

// summary is one metric of one runtime.
type summary struct {
	N          int       `json:"n"`
	Median     float64   `json:"median"`
	P10        float64   `json:"p10"`
	P90        float64   `json:"p90"`
	Min        float64   `json:"min"`
	Max        float64   `json:"max"`
	Failures   int       `json:"failures,omitempty"`
	FirstError string    `json:"first_error,omitempty"`
	Samples    []float64 `json:"samples,omitempty"`
}

type metricResult struct {
	Key         string              `json:"key"`
	Title       string              `json:"title"`
	Unit        string              `json:"unit"`
	Description string              `json:"description"`
	Runtimes    map[string]*summary `json:"runtimes"`
	// RatioToCorral is corral's median over each other runtime's median:
	// 0.5 means corral takes half the time (or memory).
	RatioToCorral map[string]float64 `json:"corral_ratio_to,omitempty"`
}

type target struct {
	Name    string  `json:"name"`
	Metric  string  `json:"metric"`
	Against string  `json:"against"`
	Limit   float64 `json:"limit"`
	Ratio   float64 `json:"ratio,omitempty"`
	Result  string  `json:"result"` // PASS, FAIL, or why it could not be judged
}

type settings struct {
	N        int    `json:"n"`
	Warmup   int    `json:"warmup"`
	Batches  int    `json:"batches"`
	Seq      int    `json:"seq"`
	ParTotal int    `json:"par_total"`
	Par      int    `json:"par"`
	Bundle   string `json:"bundle"`
	// Label names the bundle in reports ("corral spec", "runc spec").
	Label string `json:"label,omitempty"`
}

type results struct {
	Machine  machine         `json:"machine"`
	Settings settings        `json:"settings"`
	Runtimes []*ociRuntime   `json:"runtimes"`
	Metrics  []*metricResult `json:"metrics"`
	Targets  []target        `json:"targets"`
	GoBench  []goBench       `json:"go_benchmarks,omitempty"`
	Notes    []string        `json:"notes,omitempty"`
	Errors   int             `json:"errors"`

	samples map[string]map[string][]float64
	fails   map[string]map[string][]error
}

func newResults() *results {
	return &results{samples: map[string]map[string][]float64{}, fails: map[string]map[string][]error{}}
}

func (r *results) add(metric, rt string, v float64) {
	if r.samples[metric] == nil {
		r.samples[metric] = map[string][]float64{}
	}
	r.samples[metric][rt] = append(r.samples[metric][rt], v)
}

func (r *results) fail(metric, rt string, err error) {
	if r.fails[metric] == nil {
		r.fails[metric] = map[string][]error{}
	}
	if len(r.fails[metric][rt]) == 0 {
		fmt.Fprintf(os.Stderr, "bench: %s, %s: %v\n", rt, metric, err)
	}
	r.fails[metric][rt] = append(r.fails[metric][rt], err)
	r.Errors++
}

// finish turns the samples into summaries, ratios and target verdicts.
func (r *results) finish(rts []*ociRuntime, o options) {
	r.Runtimes = rts
	r.Settings = settings{N: o.n, Warmup: o.warmup, Batches: o.batches, Seq: o.seq, ParTotal: o.parTotal, Par: o.par, Bundle: o.bundle, Label: o.label}
	for _, rt := range rts {
		r.add(mSize, rt.Name, float64(rt.Size)/(1<<20))
	}
	for _, d := range metricDefs(o) {
		m := &metricResult{Key: d.key, Title: d.title, Unit: d.unit, Description: d.desc, Runtimes: map[string]*summary{}}
		for _, rt := range rts {
			s := summarize(r.samples[d.key][rt.Name])
			if errs := r.fails[d.key][rt.Name]; len(errs) > 0 {
				s.Failures = len(errs)
				s.FirstError = errs[0].Error()
			}
			m.Runtimes[rt.Name] = s
		}
		if c := m.Runtimes["corral"]; c != nil && c.N > 0 {
			m.RatioToCorral = map[string]float64{}
			for _, rt := range rts[1:] {
				if s := m.Runtimes[rt.Name]; s.N > 0 && s.Median > 0 {
					m.RatioToCorral[rt.Name] = c.Median / s.Median
				}
			}
		}
		r.Metrics = append(r.Metrics, m)
	}
	r.Targets = r.judge(o)
}

// judge checks corral against the targets of issue 7.
func (r *results) judge(o options) []target {
	defs := []target{
		{Name: "run <= 0.5x runc", Metric: mRun, Against: "runc", Limit: 0.5},
		{Name: "run <= 1.0x crun (same cgroup work)", Metric: mRun, Against: "crun", Limit: 1.0},
		{Name: "exec <= 0.35x runc", Metric: mExec, Against: "runc", Limit: 0.35},
		{Name: fmt.Sprintf("%d sequential <= 0.55x runc", o.seq), Metric: mSeq, Against: "runc", Limit: 0.55},
		{Name: fmt.Sprintf("%d at %d a time <= 0.55x runc", o.parTotal, o.par), Metric: mPar, Against: "runc", Limit: 0.55},
		{Name: "peak RSS of runtime in run <= 0.6x runc", Metric: mRSSRuntime, Against: "runc", Limit: 0.6},
	}
	for i := range defs {
		t := &defs[i]
		m := r.metric(t.Metric)
		c, other := m.Runtimes["corral"], m.Runtimes[t.Against]
		switch {
		case other == nil:
			t.Result = "n/a (" + t.Against + " not measured)"
		case c.Failures > 0 || other.Failures > 0:
			t.Result = "FAIL (invocations failed)"
		case c.N == 0 || other.N == 0:
			t.Result = "n/a (no samples)"
		default:
			t.Ratio = m.RatioToCorral[t.Against]
			t.Result = "FAIL"
			if t.Ratio <= t.Limit {
				t.Result = "PASS"
			}
		}
	}
	return defs
}

func (r *results) metric(key string) *metricResult {
	for _, m := range r.Metrics {
		if m.Key == key {
			return m
		}
	}
	return nil
}

// summarize computes median and the 10th and 90th percentiles, linearly
// interpolated between the order statistics.
func summarize(v []float64) *summary {
	s := &summary{N: len(v), Samples: v}
	if len(v) == 0 {
		return s
	}
	sorted := slices.Clone(v)
	slices.Sort(sorted)
	s.Median = quantile(sorted, 0.5)
	s.P10 = quantile(sorted, 0.1)
	s.P90 = quantile(sorted, 0.9)
	s.Min, s.Max = sorted[0], sorted[len(sorted)-1]
	return s
}

func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (sorted[hi]-sorted[lo])*(pos-float64(lo))
}

// machine describes where the figures were taken: they mean little
// without it.
type machine struct {
	Date      string `json:"date"`
	Kernel    string `json:"kernel"`
	CPU       string `json:"cpu"`
	NProc     int    `json:"nproc"`
	MemTotal  string `json:"mem_total"`
	Cgroups   string `json:"cgroups"`
	GoVersion string `json:"go"`
	// LoadStart and LoadEnd are /proc/loadavg before and after: other
	// work on the machine during the run shows here (interleaving spreads
	// its effect over all runtimes, it does not remove it).
	LoadStart string `json:"loadavg_start"`
	LoadEnd   string `json:"loadavg_end"`
}

func machineInfo(loadStart string) machine {
	m := machine{LoadStart: loadStart, LoadEnd: loadavg(), Date: time.Now().UTC().Format(time.RFC3339), NProc: runtime.NumCPU(), GoVersion: runtime.Version()}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:]) + " " + unix.ByteSliceToString(u.Machine[:])
	}
	m.CPU = procField("/proc/cpuinfo", "model name")
	m.MemTotal = procField("/proc/meminfo", "MemTotal")
	m.Cgroups = cgroupLayout()
	return m
}

func loadavg() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func procField(path, key string) string {
	data, _ := os.ReadFile(path)
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// cgroupLayout names the host's cgroup setup, which decides what work the
// runtimes do (and whether crun needs its wrapper).
func cgroupLayout() string {
	var st unix.Statfs_t
	if unix.Statfs("/sys/fs/cgroup", &st) != nil {
		return "unknown"
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "v2 (unified)"
	}
	if unix.Statfs("/sys/fs/cgroup/unified", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "v1 hybrid (v1 controllers, v2 at /sys/fs/cgroup/unified)"
	}
	return "v1 (legacy)"
}
