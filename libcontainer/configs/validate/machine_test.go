package validate

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestParseList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want list
		bad  bool
	}{
		{in: "", want: nil},
		{in: "0\n", want: list{{0, 0}}},
		{in: "0-3,7", want: list{{0, 3}, {7, 7}}},
		{in: "7,0-3", want: list{{0, 3}, {7, 7}}},
		{in: "0-3,4,5-6", want: list{{0, 6}}},
		{in: "0-5,2-3", want: list{{0, 5}}},
		{in: "4294967295", want: list{{4294967295, 4294967295}}},
		{in: "0,", bad: true},
		{in: ",0", bad: true},
		{in: "0-", bad: true},
		{in: "-1", bad: true},
		{in: "3-1", bad: true},
		{in: "a", bad: true},
		{in: "0 - 3", bad: true},
		{in: "4294967296", bad: true},
	} {
		got, err := parseList(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("parseList(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("parseList(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestListCovers(t *testing.T) {
	have := list{{0, 3}, {8, 15}}
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"0", true},
		{"0-3,8-15", true},
		{"2,9-10", true},
		{"3-8", false},
		{"4", false},
		{"16", false},
	} {
		l, err := parseList(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := have.covers(l); got != tc.want {
			t.Errorf("%v covers %q = %v, want %v", have, tc.in, got, tc.want)
		}
	}
	if s := have.String(); s != "0-3,8-15" {
		t.Errorf("String() = %q", s)
	}
}

func TestReadHugePages(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"hugepages-2048kB", "hugepages-1048576kB", "hugepages-64kB", "hugepages-32768kB", "other", "hugepages-xkB"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	got := readHugePages(dir)
	want := []string{"64KB", "2MB", "32MB", "1GB"}
	if !slices.Equal(got, want) {
		t.Errorf("readHugePages = %v, want %v", got, want)
	}
	if got := readHugePages(filepath.Join(dir, "missing")); got != nil {
		t.Errorf("readHugePages of a missing directory = %v, want nil", got)
	}
}

func TestIsPageSizeName(t *testing.T) {
	for s, want := range map[string]bool{
		"2MB": true, "1GB": true, "64KB": true,
		"2M": false, "MB": false, "02MB": false, "2mb": false, "2048kB": false, "-2MB": false, "": false,
	} {
		if got := isPageSizeName(s); got != want {
			t.Errorf("isPageSizeName(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzParseList(f *testing.F) {
	for _, s := range []string{"0-3,7", "", "0\n", "1-0", "0,,1", "4294967295"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := parseList(s)
		if err != nil {
			return
		}
		// What parses prints back to a list that parses to the same set.
		again, err := parseList(l.String())
		if err != nil || !slices.Equal(again, l) {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, l, l.String(), again, err)
		}
		if !l.covers(l) {
			t.Fatalf("%v does not cover itself", l)
		}
	})
}

func BenchmarkParseList(b *testing.B) {
	for b.Loop() {
		if _, err := parseList("0-3,7,9-15,32-63\n"); err != nil {
			b.Fatal(err)
		}
	}
}
