package label

import (
	"slices"
	"strings"
	"testing"
)

func TestDupSecOptForm(t *testing.T) {
	got, err := DupSecOpt("system_u:system_r:container_t:s0:c1,c2")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"user:system_u", "role:system_r", "type:container_t", "level:s0:c1,c2"}
	if !slices.Equal(got, want) {
		t.Fatalf("DupSecOpt = %q, want %q (no label= prefix)", got, want)
	}
	if got := DisableSecOpt(); !slices.Equal(got, []string{"disable"}) {
		t.Fatalf("DisableSecOpt = %q", got)
	}
}

func TestDisabledHost(t *testing.T) {
	if Enabled() {
		t.Skip("SELinux is enabled on this host")
	}
	if p, m, err := InitLabels([]string{"type:container_t"}); err != nil || p != "" || m != "" {
		t.Fatalf("InitLabels on a host without SELinux = %q %q %v", p, m, err)
	}
	if got := FormatMountLabel("mode=755", "system_u:object_r:container_file_t:s0"); got != "mode=755" {
		t.Fatalf("FormatMountLabel without SELinux = %q", got)
	}
	// A label is refused, as runc refuses it, before anything is made.
	err := Check("system_u:system_r:container_t:s0")
	if err == nil || !strings.Contains(err.Error(), `process.selinuxLabel "system_u:system_r:container_t:s0"`) ||
		!strings.Contains(err.Error(), "selinux is disabled or not supported") {
		t.Fatalf("Check of a label without SELinux = %v", err)
	}
	if err := Check(""); err != nil {
		t.Fatal(err)
	}
}
