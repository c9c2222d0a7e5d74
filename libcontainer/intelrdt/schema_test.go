package intelrdt

import (
	"slices"
	"strings"
	"testing"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// The kernel's schemata file as it prints it: names padded, masks
// zero-padded to the width of the widest.
const kernelSchemata = "    L3:0=000ff;1=fffff\n    MB:0=100;1= 50\n"

func TestLines(t *testing.T) {
	cfg := &configs.IntelRdt{L3CacheSchema: "L3:0=f", MemBwSchema: "MB:0=50", Schemata: []string{"L2:0=3", " "}}
	if got, want := Lines(cfg), []string{"L3:0=f", "MB:0=50", "L2:0=3"}; !slices.Equal(got, want) {
		t.Errorf("Lines = %q, want %q (l3CacheSchema, memBwSchema, then schemata: the spec's order)", got, want)
	}
	if got := Lines(&configs.IntelRdt{ClosID: "g"}); got != nil {
		t.Errorf("Lines without a schema = %q, want none: the group's schemata are left alone", got)
	}
}

func TestGroupName(t *testing.T) {
	for _, tc := range []struct {
		closID, want string
		owned        bool
	}{
		{"", "ctr", true},
		{"/", "", false},
		{"gold", "gold", false},
	} {
		cfg := &configs.IntelRdt{ClosID: tc.closID}
		if got := GroupName(cfg, "ctr"); got != tc.want {
			t.Errorf("GroupName(closID %q) = %q, want %q", tc.closID, got, tc.want)
		}
		if got := Owned(cfg); got != tc.owned {
			t.Errorf("Owned(closID %q) = %v, want %v", tc.closID, got, tc.owned)
		}
	}
}

func TestCheckLine(t *testing.T) {
	for _, good := range []string{"L3:0=f", "L3:0=ff;1=f0", "MB:0=50;1=100", " MB: 0 = 50 ", "L3CODE:0=f"} {
		if err := CheckLine(good); err != nil {
			t.Errorf("CheckLine(%q): %v", good, err)
		}
	}
	for _, bad := range []string{"", "L3", "L3:", ":0=f", "L3:0", "L3:x=f", "L3:0=", "L3:0=f\nMB:0=1", "L3:=f"} {
		if err := CheckLine(bad); err == nil {
			t.Errorf("CheckLine(%q) accepted it", bad)
		}
	}
}

func TestCompare(t *testing.T) {
	for _, want := range [][]string{
		{"L3:0=ff"},               // padding and width do not matter
		{"L3:1=FFFFF", "MB:1=50"}, // nor case, nor a domain left out
		{"MB:0=100"},
		nil,
	} {
		if err := Compare(want, kernelSchemata); err != nil {
			t.Errorf("Compare(%q): %v", want, err)
		}
	}
	for _, tc := range []struct {
		want []string
		says string
	}{
		{[]string{"L3:0=f"}, "L3:0=000ff"},
		{[]string{"MB:1=100"}, "MB:1=50"},
		{[]string{"L3:2=f"}, "L3:2="},
		{[]string{"L2:0=3"}, "no L2 resource"},
		{[]string{"L3:0=ff", "MB:0=10"}, "MB:0=100"},
	} {
		err := Compare(tc.want, kernelSchemata)
		if err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("Compare(%q) = %v, want an error saying %q", tc.want, err, tc.says)
		}
	}
}

func TestLineOf(t *testing.T) {
	if got := lineOf(kernelSchemata, "L3"); got != "L3:0=000ff;1=fffff" {
		t.Errorf("lineOf L3 = %q", got)
	}
	if got := lineOf(kernelSchemata, "MB"); got != "MB:0=100;1= 50" {
		t.Errorf("lineOf MB = %q", got)
	}
	if got := lineOf(kernelSchemata, "L2"); got != "" {
		t.Errorf("lineOf L2 = %q, want none", got)
	}
}

func TestUnescapeMountPath(t *testing.T) {
	for in, want := range map[string]string{
		"/sys/fs/resctrl":    "/sys/fs/resctrl",
		`/mnt/my\040resctrl`: "/mnt/my resctrl",
		`/a\134b`:            `/a\b`,
		`/trailing\04`:       `/trailing\04`,
	} {
		if got := unescapeMountPath(in); got != want {
			t.Errorf("unescapeMountPath(%q) = %q, want %q", in, got, want)
		}
	}
}
