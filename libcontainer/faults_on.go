//go:build corral_testhooks

package libcontainer

import "github.com/corral-oci/corral/internal/faults"

// faultPoint marks a phase where the crash tests stop the runtime to kill
// it: built only with the corral_testhooks tag, which the reliability
// tests' binary has (see faults_off.go for the shipped one).
func faultPoint(phase string) { faults.Point(phase) }

// faultEnv passes the pause variables on to the runtime's children,
// whose setup has fault points too.
func faultEnv() []string { return faults.Env() }
