package libcontainer

import (
	"os"
	"runtime"
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

func TestParseIDList(t *testing.T) {
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
		{"63-64", []int{63, 64}},
		{"8191", []int{8191}},
	} {
		mask, err := parseIDList(tc.list, maxCPUs)
		if err != nil {
			t.Errorf("parseIDList(%q): %v", tc.list, err)
			continue
		}
		var got []int
		for id := 0; id < len(mask)*64; id++ {
			if mask[id/64]&(1<<(id%64)) != 0 {
				got = append(got, id)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("parseIDList(%q) = %v, want %v", tc.list, got, tc.want)
		}
		if last := tc.want[len(tc.want)-1]; len(mask) != last/64+1 {
			t.Errorf("parseIDList(%q) is %d words long, want %d", tc.list, len(mask), last/64+1)
		}
	}
	for _, bad := range []string{"", "a", "-1", "3-1", "1-", "1-x", "0,,1", "8192", "0-8192", "99999999999999999999"} {
		if mask, err := parseIDList(bad, maxCPUs); err == nil {
			t.Errorf("parseIDList(%q) = %v, want an error", bad, mask)
		}
	}
}

// FuzzParseIDList holds the parser to never panic, and to return a mask
// whose last word has a bit set for every list it accepts.
func FuzzParseIDList(f *testing.F) {
	for _, s := range []string{"0", "0-3,7", " 2 , 4-5 ", "8191", "3-1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, list string) {
		mask, err := parseIDList(list, maxCPUs)
		if err != nil {
			return
		}
		if len(mask) == 0 || mask[len(mask)-1] == 0 {
			t.Errorf("parseIDList(%q) = %v", list, mask)
		}
	})
}

// BenchmarkSetFinalAffinity is what every start pays to reset init's
// affinity: one sched_setaffinity(2).
func BenchmarkSetFinalAffinity(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var saved unix.CPUSet
	if err := unix.SchedGetaffinity(0, &saved); err != nil {
		b.Fatal(err)
	}
	defer unix.SchedSetaffinity(0, &saved)
	ps := &processSetup{}
	for b.Loop() {
		if err := setFinalAffinity(ps); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGiveStdio is what every start pays when the stdio is already
// the user's, as root's is: three fstat(2).
func BenchmarkGiveStdio(b *testing.B) {
	uid := os.Getuid()
	for b.Loop() {
		if err := giveStdio(false, uid); err != nil {
			b.Fatal(err)
		}
	}
}
