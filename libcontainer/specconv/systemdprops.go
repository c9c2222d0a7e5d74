package specconv

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	systemdDbus "github.com/coreos/go-systemd/v22/dbus"
	dbus "github.com/godbus/dbus/v5"
)

// systemdPropertyPrefix starts the annotations that set a property of the
// container's systemd unit: "org.systemd.property.TimeoutStopUSec":
// "uint64 123456789", as runc and crun take them.
const systemdPropertyPrefix = "org.systemd.property."

// systemdProperties turns the org.systemd.property.* annotations into
// unit properties. A value is GVariant text ("uint64 5", "'inactive'",
// "true"), typed as systemd's D-Bus API wants it, since systemd checks the
// type. A name ending in "Sec" (not "USec") is the unit-file spelling of
// a time in seconds: it becomes the D-Bus property "...USec" with the
// number of seconds, which may have a fraction, in microseconds.
func systemdProperties(annotations map[string]string) ([]systemdDbus.Property, error) {
	var props []systemdDbus.Property
	for _, key := range slices.Sorted(maps.Keys(annotations)) {
		name, ok := strings.CutPrefix(key, systemdPropertyPrefix)
		if !ok {
			continue
		}
		field := fmt.Sprintf("annotations[%q]", key)
		value := annotations[key]
		if !validPropertyName(name) {
			return nil, fieldError(field, "%q is not a systemd property name (letters and digits, starting with a capital)", name)
		}
		v, err := dbus.ParseVariant(value, dbus.Signature{})
		if err != nil {
			return nil, fieldError(field, "value %q is not GVariant text (e.g. \"uint64 5\", \"'text'\", \"true\"): %v", value, err)
		}
		if strings.HasSuffix(name, "Sec") && !strings.HasSuffix(name, "USec") {
			usec, err := secondsToUsec(v)
			if err != nil {
				return nil, fieldError(field, "value %q: %v", value, err)
			}
			name = strings.TrimSuffix(name, "Sec") + "USec"
			v = dbus.MakeVariant(usec)
		}
		props = append(props, systemdDbus.Property{Name: name, Value: v})
	}
	return props, nil
}

// validPropertyName reports whether name can be a property of systemd's
// D-Bus API, all of which are CamelCase words.
func validPropertyName(name string) bool {
	if name == "" || name[0] < 'A' || name[0] > 'Z' {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// secondsToUsec converts a number of seconds, of any GVariant number type,
// to microseconds.
func secondsToUsec(v dbus.Variant) (uint64, error) {
	const usecPerSec = 1_000_000
	var f float64
	switch n := v.Value().(type) {
	case uint8:
		f = float64(n)
	case int16:
		f = float64(n)
	case uint16:
		f = float64(n)
	case int32:
		f = float64(n)
	case uint32:
		f = float64(n)
	case int64:
		f = float64(n)
	case uint64:
		if n > math.MaxUint64/usecPerSec {
			return 0, fmt.Errorf("%d seconds do not fit in microseconds", n)
		}
		return n * usecPerSec, nil
	case float64:
		f = n
	default:
		return 0, fmt.Errorf("a time in seconds (name ending in Sec) must be a number, not %s", v.Signature())
	}
	if f < 0 || math.IsNaN(f) || f*usecPerSec >= math.MaxUint64 {
		return 0, fmt.Errorf("%v seconds is no time span", f)
	}
	return uint64(math.Round(f * usecPerSec)), nil
}
