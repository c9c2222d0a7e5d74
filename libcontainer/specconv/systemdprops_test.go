package specconv

import (
	"strings"
	"testing"

	dbus "github.com/godbus/dbus/v5"
)

func TestSystemdProperties(t *testing.T) {
	tests := []struct {
		value    string
		name     string
		want     any
		property string
	}{
		{"uint64 123456789", "TimeoutStopUSec", uint64(123456789), "TimeoutStopUSec"},
		{"'inactive-or-failed'", "CollectMode", "inactive-or-failed", "CollectMode"},
		{"true", "IgnoreOnIsolate", true, "IgnoreOnIsolate"},
		// Seconds, the unit-file spelling, become microseconds.
		{"300", "TimeoutStopSec", uint64(300_000_000), "TimeoutStopUSec"},
		{"1.5", "RuntimeMaxSec", uint64(1_500_000), "RuntimeMaxUSec"},
		{"uint64 2", "TimeoutStopSec", uint64(2_000_000), "TimeoutStopUSec"},
	}
	for _, tt := range tests {
		props, err := systemdProperties(map[string]string{
			systemdPropertyPrefix + tt.name: tt.value,
			"other.annotation":              "x",
		})
		if err != nil {
			t.Errorf("%s=%s: %v", tt.name, tt.value, err)
			continue
		}
		if len(props) != 1 || props[0].Name != tt.property || props[0].Value.Value() != tt.want {
			t.Errorf("%s=%s: got %+v, want %s=%#v", tt.name, tt.value, props, tt.property, tt.want)
		}
	}
}

func TestSystemdPropertiesRefused(t *testing.T) {
	for _, tt := range []struct{ name, value, want string }{
		{"", "1", `annotations["org.systemd.property."]: "" is not a systemd property name`},
		{"Bad-Name", "1", `"Bad-Name" is not a systemd property name`},
		{"CollectMode", "inactive-or-failed", `value "inactive-or-failed" is not GVariant text`},
		{"TimeoutStopSec", "'soon'", `must be a number, not s`},
		{"TimeoutStopSec", "-1", `-1 seconds is no time span`},
	} {
		_, err := systemdProperties(map[string]string{systemdPropertyPrefix + tt.name: tt.value})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s=%s: got %v, want an error with %q", tt.name, tt.value, err, tt.want)
		}
	}
}

// TestSystemdPropertiesOnlyWithSystemd: the annotations set the unit's
// properties with the systemd driver and are ignored without, as by runc.
func TestSystemdPropertiesOnlyWithSystemd(t *testing.T) {
	for _, systemd := range []bool{false, true} {
		spec := Example()
		spec.Annotations = map[string]string{systemdPropertyPrefix + "CollectMode": "'inactive-or-failed'"}
		c, err := CreateLibcontainerConfig(&CreateOpts{CgroupName: "ctr", Spec: spec, UseSystemdCgroup: systemd})
		if err != nil {
			t.Fatal(err)
		}
		got := len(c.Cgroups.SystemdProps)
		if want := map[bool]int{false: 0, true: 1}[systemd]; got != want {
			t.Errorf("systemd %v: %d properties, want %d", systemd, got, want)
		}
		if systemd && c.Cgroups.SystemdProps[0].Value != dbus.MakeVariant("inactive-or-failed") {
			t.Errorf("got %+v", c.Cgroups.SystemdProps)
		}
	}
}

// TestSystemdRootlessUsesUserManager: without root, the systemd driver
// asks the user's manager (the cgroups library's Rootless), which
// delegates the user a cgroup; the cgroupfs driver's Rootless stays what
// the caller said.
func TestSystemdRootlessUsesUserManager(t *testing.T) {
	for _, tt := range []struct{ systemd, euid, cgroups, want bool }{
		{true, true, false, true},
		{true, false, false, false},
		{false, true, false, false},
		{false, true, true, true},
	} {
		spec := Example()
		if tt.euid {
			ToRootless(spec)
		}
		c, err := CreateLibcontainerConfig(&CreateOpts{CgroupName: "ctr", Spec: spec, UseSystemdCgroup: tt.systemd,
			RootlessEUID: tt.euid, RootlessCgroups: tt.cgroups})
		if err != nil {
			t.Fatal(err)
		}
		if c.Cgroups.Rootless != tt.want {
			t.Errorf("systemd %v, rootless euid %v, cgroups %v: Rootless %v, want %v", tt.systemd, tt.euid, tt.cgroups, c.Cgroups.Rootless, tt.want)
		}
	}
}
