package libcontainer

import "testing"

// ParseCgroupsMode reads what String writes, and refuses anything else.
func TestParseCgroupsMode(t *testing.T) {
	for _, m := range []CgroupsMode{CgroupsModeDefault, CgroupsModeSoft, CgroupsModeFull, CgroupsModeStrict, CgroupsModeIgnore} {
		s := m.String()
		if s == "default" {
			s = ""
		}
		if got, err := ParseCgroupsMode(s); err != nil || got != m {
			t.Errorf("ParseCgroupsMode(%q) = %v, %v, want %v", s, got, err, m)
		}
	}
	for _, bad := range []string{"default", "Soft", "props", " full"} {
		if got, err := ParseCgroupsMode(bad); err == nil {
			t.Errorf("ParseCgroupsMode(%q) = %v, want an error", bad, got)
		}
	}
}
