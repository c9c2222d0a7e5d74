package validate

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/opencontainers/cgroups"
)

// machine is what the checks need to know about the host. All of it is
// fixed once the system has booted (possible cpus and nodes, huge page
// sizes, the kinds of namespaces, the cgroup mode), so it is read once per
// process; what can change (mounts, files) is read on every Validate.
type machine struct {
	// cpus and nodes are the possible cpus and memory nodes; cpus is nil
	// when sysfs does not say, and then no cpu number is refused.
	cpus, nodes list
	// hugePages are the huge page sizes in the cgroup's spelling ("2MB").
	hugePages []string
	// namespaces are the names under /proc/self/ns ("net", "time"); nil
	// when procfs cannot be read, and then every kind is assumed.
	namespaces map[string]bool
	// cgroup2 is set when the host runs cgroup v2 alone, the only mode in
	// which the unified resources are applied.
	cgroup2 bool
}

var hostMachine = sync.OnceValue(func() *machine {
	m := &machine{
		cpus:      readList("/sys/devices/system/cpu/possible", "/sys/devices/system/cpu/online"),
		nodes:     readList("/sys/devices/system/node/possible", "/sys/devices/system/node/online"),
		hugePages: readHugePages("/sys/kernel/mm/hugepages"),
		cgroup2:   cgroups.IsCgroup2UnifiedMode(),
	}
	// A kernel built without NUMA has no node directory, and one node.
	if m.nodes == nil {
		m.nodes = list{{0, 0}}
	}
	if ents, err := os.ReadDir("/proc/self/ns"); err == nil {
		m.namespaces = make(map[string]bool, len(ents))
		for _, e := range ents {
			m.namespaces[e.Name()] = true
		}
	}
	return m
})

// readList reads the first of files that parses.
func readList(files ...string) list {
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if l, err := parseList(string(b)); err == nil && len(l) > 0 {
			return l
		}
	}
	return nil
}

// readHugePages turns the kernel's directory names ("hugepages-2048kB")
// into the names the hugetlb controller gives its files ("2MB").
func readHugePages(dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var kbs []uint64
	for _, e := range ents {
		n, ok := strings.CutPrefix(e.Name(), "hugepages-")
		if !ok {
			continue
		}
		n, ok = strings.CutSuffix(n, "kB")
		if !ok {
			continue
		}
		if kb, err := strconv.ParseUint(n, 10, 64); err == nil && kb > 0 {
			kbs = append(kbs, kb)
		}
	}
	slices.Sort(kbs)
	out := make([]string, len(kbs))
	for i, kb := range kbs {
		out[i] = pageSizeName(kb)
	}
	return out
}

// pageSizeName spells a page size as the kernel's hugetlb cgroup does:
// the largest unit it reaches, rounded down.
func pageSizeName(kb uint64) string {
	switch {
	case kb >= 1<<20:
		return strconv.FormatUint(kb>>20, 10) + "GB"
	case kb >= 1<<10:
		return strconv.FormatUint(kb>>10, 10) + "MB"
	}
	return strconv.FormatUint(kb, 10) + "KB"
}

// span is an inclusive range of cpu or node numbers.
type span struct{ lo, hi uint32 }

// list is a set of cpus or nodes, as the kernel's list format writes it
// ("0-3,7"): sorted, with adjacent spans merged.
type list []span

var errEmptyItem = errors.New("has an empty item")

// parseList parses the kernel's list format. Surrounding white space is
// dropped (sysfs ends its files with a newline); an empty string is the
// empty list.
func parseList(s string) (list, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var l list
	for item := range strings.SplitSeq(s, ",") {
		if item == "" {
			return nil, errEmptyItem
		}
		lo, hi, isRange := strings.Cut(item, "-")
		a, err := strconv.ParseUint(lo, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("has %q, not a number", lo)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 32); err != nil {
				return nil, fmt.Errorf("has %q, not a number", hi)
			}
			if b < a {
				return nil, fmt.Errorf("has the reversed range %s", item)
			}
		}
		l = append(l, span{uint32(a), uint32(b)})
	}
	slices.SortFunc(l, func(x, y span) int { return int(int64(x.lo) - int64(y.lo)) })
	out := l[:1]
	for _, sp := range l[1:] {
		last := &out[len(out)-1]
		if uint64(sp.lo) <= uint64(last.hi)+1 {
			last.hi = max(last.hi, sp.hi)
			continue
		}
		out = append(out, sp)
	}
	return out, nil
}

// covers reports whether every number of o is in l.
func (l list) covers(o list) bool {
	for _, sp := range o {
		// l is merged, so sp must fit within a single span of it.
		if !slices.ContainsFunc(l, func(x span) bool { return x.lo <= sp.lo && sp.hi <= x.hi }) {
			return false
		}
	}
	return true
}

// count is how many numbers l has.
func (l list) count() int {
	n := 0
	for _, sp := range l {
		n += int(sp.hi-sp.lo) + 1
	}
	return n
}

func (l list) String() string {
	var b strings.Builder
	for i, sp := range l {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(uint64(sp.lo), 10))
		if sp.hi != sp.lo {
			b.WriteByte('-')
			b.WriteString(strconv.FormatUint(uint64(sp.hi), 10))
		}
	}
	return b.String()
}

// cpuList checks a cpu or node list against what the machine has.
func (v *checker) cpuList(field, s string, have list, what string) {
	l, err := parseList(s)
	if err != nil {
		v.failf(field, s, "is not a list of %ss like \"0-3,7\": it %v", what, err)
		return
	}
	if len(l) == 0 {
		v.failf(field, s, "is an empty list")
		return
	}
	if have != nil && !have.covers(l) {
		v.failf(field, s, "names %ss this machine does not have (it has %s)", what, have)
	}
}
