package libcontainer

import (
	"testing"

	"github.com/corral-oci/corral/libcontainer/configs"
)

// The values runc 1.3.2 and later write: the defaults meet.
func TestSharesToWeight(t *testing.T) {
	for _, tc := range []struct{ shares, weight uint64 }{
		{0, 0}, {1, 1}, {2, 1}, {3, 2},
		{256, 35}, {512, 59}, {1024, 100}, {2048, 174},
		{262144, 10000}, {1 << 20, 10000},
	} {
		if got := sharesToWeight(tc.shares); got != tc.weight {
			t.Errorf("sharesToWeight(%d) = %d, want %d", tc.shares, got, tc.weight)
		}
	}
}

// Every weight survives the trip to shares and back, and the shares are
// the most that give it: the defaults meet.
func TestWeightToSharesRoundTrip(t *testing.T) {
	if weightToShares(100) != 1024 {
		t.Errorf("weightToShares(100) = %d, want 1024", weightToShares(100))
	}
	if weightToShares(0) != 0 {
		t.Errorf("weightToShares(0) = %d", weightToShares(0))
	}
	for w := uint64(minWeight); w <= maxWeight; w++ {
		s := weightToShares(w)
		if s < minShares || s > maxShares {
			t.Fatalf("weightToShares(%d) = %d, outside %d-%d", w, s, minShares, maxShares)
		}
		if got := sharesToWeight(s); got != w {
			t.Fatalf("sharesToWeight(weightToShares(%d) = %d) = %d", w, s, got)
		}
		if s < maxShares && sharesToWeight(s+1) == w {
			t.Fatalf("weightToShares(%d) = %d, but %d gives the weight too", w, s, s+1)
		}
	}
}

func TestResourcesFor(t *testing.T) {
	for _, tc := range []struct {
		name           string
		in             configs.Resources
		v2             bool
		shares, weight uint64
		copied         bool
	}{
		{"v2 shares", configs.Resources{CpuShares: 512}, true, 512, 59, true},
		{"v2 weight wins", configs.Resources{CpuShares: 512, CpuWeight: 300}, true, 512, 300, false},
		{"v2 weight", configs.Resources{CpuWeight: 300}, true, 0, 300, false},
		{"v2 none", configs.Resources{Memory: 1}, true, 0, 0, false},
		{"v1 weight", configs.Resources{CpuWeight: 100}, false, 1024, 100, true},
		{"v1 shares", configs.Resources{CpuShares: 512}, false, 512, 0, false},
		{"v1 both", configs.Resources{CpuShares: 512, CpuWeight: 300}, false, 512, 300, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			got := resourcesFor(&in, tc.v2)
			if got.CpuShares != tc.shares || got.CpuWeight != tc.weight {
				t.Errorf("shares %d weight %d, want %d %d", got.CpuShares, got.CpuWeight, tc.shares, tc.weight)
			}
			if (got != &in) != tc.copied {
				t.Errorf("copied = %v, want %v", got != &in, tc.copied)
			}
			if in.CpuShares != tc.in.CpuShares || in.CpuWeight != tc.in.CpuWeight {
				t.Errorf("the caller's resources changed: %+v", in)
			}
		})
	}
	if resourcesFor(nil, true) != nil {
		t.Error("nil resources became something")
	}
}
