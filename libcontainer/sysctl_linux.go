package libcontainer

import (
	"fmt"
	"strings"

	"github.com/corral-oci/corral/libcontainer/internal/procfs"
)

// writeSysctls writes each sysctl through a private procfs, so a /proc
// mounted by the container cannot redirect the writes.
func writeSysctls(sysctl map[string]string) error {
	for key, value := range sysctl {
		path := "sys/" + strings.ReplaceAll(key, ".", "/")
		if strings.Contains(key, "/") {
			path = "sys/" + key
		}
		if err := procfs.WriteRoot(path, []byte(value)); err != nil {
			return fmt.Errorf("sysctl %q=%q: %w", key, value, err)
		}
	}
	return nil
}
