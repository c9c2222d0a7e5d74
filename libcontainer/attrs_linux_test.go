package libcontainer

import (
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func TestRlimitName(t *testing.T) {
	for typ, want := range map[int]string{
		unix.RLIMIT_NOFILE: "RLIMIT_NOFILE",
		unix.RLIMIT_RTTIME: "RLIMIT_RTTIME",
		unix.RLIMIT_CPU:    "RLIMIT_CPU",
		99:                 "rlimit 99",
	} {
		if got := rlimitName(typ); got != want {
			t.Errorf("rlimitName(%d) = %q, want %q", typ, got, want)
		}
	}
}

func TestParseCPUList(t *testing.T) {
	for _, tc := range []struct {
		list string
		want []int
	}{
		{"0", []int{0}},
		{"0-3", []int{0, 1, 2, 3}},
		{"0-1,7", []int{0, 1, 7}},
		{" 2 , 4-5 ", []int{2, 4, 5}},
		{"3-3", []int{3}},
		{"1,1", []int{1}},
		{"1023", []int{1023}},
	} {
		set, err := parseCPUList(tc.list)
		if err != nil {
			t.Errorf("parseCPUList(%q): %v", tc.list, err)
			continue
		}
		var got []int
		for cpu := 0; cpu < len(set)*64; cpu++ {
			if set.IsSet(cpu) {
				got = append(got, cpu)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("parseCPUList(%q) = %v, want %v", tc.list, got, tc.want)
		}
	}
	for _, bad := range []string{"", "a", "-1", "3-1", "1-", "1-x", "0,,1", "1024", "0-1024", "99999999999999999999"} {
		if set, err := parseCPUList(bad); err == nil {
			t.Errorf("parseCPUList(%q) = %v, want an error", bad, set)
		}
	}
}

// FuzzParseCPUList holds the parser to never panic, and to set the first
// cpu of every list it accepts.
func FuzzParseCPUList(f *testing.F) {
	for _, s := range []string{"0", "0-3,7", " 2 , 4-5 ", "1023", "3-1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, list string) {
		set, err := parseCPUList(list)
		if err != nil {
			return
		}
		if set.Count() == 0 {
			t.Errorf("parseCPUList(%q) accepted an empty set", list)
		}
	})
}
