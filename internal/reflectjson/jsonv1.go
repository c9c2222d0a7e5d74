//go:build !goexperiment.jsonv2

package reflectjson

// jsonV2 is true when encoding/json is built on encoding/json/v2
// (GOEXPERIMENT=jsonv2), whose corners differ: see jsonv2.go.
const jsonV2 = false
