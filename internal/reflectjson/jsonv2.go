//go:build goexperiment.jsonv2

package reflectjson

// jsonV2 is true when encoding/json is built on encoding/json/v2
// (GOEXPERIMENT=jsonv2), which differs from the original in corners this
// package either follows or refuses:
//   - invalid UTF-8 in a string is encoded as U+FFFD itself, not "\ufffd";
//   - a tag's name that the original finds invalid (and replaces by the
//     field's) is taken nearly as it is: refused;
//   - of the fields whose names match a key case-insensitively, the
//     first breadth-first among embedded structs is decoded, not the
//     first: refused where there are two.
const jsonV2 = true
