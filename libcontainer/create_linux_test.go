package libcontainer

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"web", true},
		{"a", true},
		{"Web_1+2.3-4", true},
		{"a..b", true},
		{strings.Repeat("x", maxIDLen), true},
		{"", false},
		{strings.Repeat("x", maxIDLen+1), false},
		{".", false},
		{"..", false},
		{".cache", false},
		{"a/b", false},
		{"../x", false},
		{"a b", false},
		{"a\x00b", false},
		{"caf\u00e9", false},
		{"a:b", false},
	} {
		err := ValidateID(tc.id)
		if tc.ok != (err == nil) {
			t.Errorf("ValidateID(%q) = %v, want ok %v", tc.id, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidID) {
			t.Errorf("ValidateID(%q) = %v, not ErrInvalidID", tc.id, err)
		}
	}
}
