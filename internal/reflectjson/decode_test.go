package reflectjson_test

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/internal/reflectjson"
)

// linuxSpec mirrors specconv's (unexported) type, which is what
// Unmarshal decodes config.json into: the spec without the other
// platforms, whose types have floats, which Unmarshal leaves to
// encoding/json.
type linuxSpec struct {
	Version     string            `json:"ociVersion"`
	Process     *specs.Process    `json:"process,omitempty"`
	Root        *specs.Root       `json:"root,omitempty"`
	Hostname    string            `json:"hostname,omitempty"`
	Domainname  string            `json:"domainname,omitempty"`
	Mounts      []specs.Mount     `json:"mounts,omitempty"`
	Hooks       *specs.Hooks      `json:"hooks,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Linux       *specs.Linux      `json:"linux,omitempty"`
}

// decodeBoth decodes data with encoding/json and with Unmarshal: where
// Unmarshal succeeds, encoding/json must too, with the same value. It
// returns whether Unmarshal succeeded.
func decodeBoth[T any](t *testing.T, data []byte) bool {
	t.Helper()
	var want, got T
	werr := json.Unmarshal(data, &want)
	if err := reflectjson.Unmarshal(data, &got); err != nil {
		return false
	}
	if werr != nil {
		t.Fatalf("Unmarshal accepted what encoding/json refuses (%v):\n%s", werr, data)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Unmarshal:\n%#v\nencoding/json:\n%#v\ninput:\n%s", got, want, data)
	}
	return true
}

// TestDecodeSpecs: specs filled at random, encoded by encoding/json,
// decode as encoding/json decodes them.
func TestDecodeSpecs(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 500 {
		var spec linuxSpec
		reflectjson.Fill(r, reflect.ValueOf(&spec).Elem(), 0)
		data, err := json.Marshal(&spec)
		if err != nil {
			t.Fatal(err)
		}
		if !decodeBoth[linuxSpec](t, data) {
			t.Fatalf("spec %d: Unmarshal refused what json.Marshal wrote:\n%s", i, data)
		}
		indented, _ := json.MarshalIndent(&spec, "", "\t")
		if !decodeBoth[linuxSpec](t, indented) {
			t.Fatalf("spec %d: Unmarshal refused:\n%s", i, indented)
		}
	}
}

// decodeCases are inputs for linuxSpec with encoding/json's corners.
var decodeCases = []string{
	`{"ociVersion":"1.0.0","hostname":"x"}`,
	` { "OCIVERSION" : "1" , "HostName":"y", "unknown": {"a":[1,2.5e-3,-0,"\u00e9",true,false,null,{}],"b":[]} } `,
	`{"process":{"args":["sh","-c","echo \"hi\" \\ \/ \b\f\n\r\t \u0041 \ud83d\ude00 \ud83d \udc00x \u00e9"]}}`,
	`{"process":{"args":["caf` + "\xc3\xa9 \xff bad \xed\xa0\x80" + `"]}}`,
	`{"process":null,"root":null,"mounts":null,"annotations":null,"linux":null,"hostname":null}`,
	`{"mounts":[],"annotations":{},"linux":{"namespaces":[]}}`,
	`{"mounts":[{"destination":"/proc","type":"proc","options":["nosuid",null]}]}`,
	`{"linux":{"resources":{"memory":{"limit":-1,"swap":9223372036854775807},"cpu":{"shares":18446744073709551615}}}}`,
	`{"linux":{"resources":{"cpu":{"shares":18446744073709551616}}}}`,
	`{"linux":{"resources":{"cpu":{"shares":-1}}}}`,
	`{"linux":{"resources":{"cpu":{"shares":1.0}}}}`,
	`{"linux":{"resources":{"blockIO":{"weightDevice":[{"major":8,"minor":0,"weight":10}]}}}}`,
	`{"process":{"user":{"uid":0,"gid":0,"additionalGids":[1,2,3]},"noNewPrivileges":true,"terminal":false}}`,
	`{"hostname":"a","hostname":"b"}`,
	`{"hostname":"a","HOSTNAME":"b"}`,
	`{"process":{"ARGS":["x"],"Cwd":"/","user":{"UID":1,"Gid":2,"additionalgids":[3]}}}`,
	`{"linux":{"NAMESPACES":[{"TYPE":"pid"}],"Resources":{"Memory":{"Limit":5}},"sysctl":{"K":"v"}}}`,
	`{"process":{"args":["x"],"ARGS":["y"]}}`,
	`{"annotations":{"k":"1","k":"2"}}`,
	`{"hostname":"a"} x`,
	`{"hostname":"a"}{}`,
	`{"hostname":"a",}`,
	`{"hostname":1}`,
	`{"hostname":"a\u0000b"}`,
	"{\"hostname\":\"a\tb\"}",
	`[]`,
	`null`,
	`{"process":{"args":"sh"}}`,
	`{"linux":{"resources":{"memory":{"limit":01}}}}`,
	`{"linux":{"resources":{"memory":{"limit":-}}}}`,
	`{"process":{"rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],"capabilities":{"bounding":["CAP_KILL"]}}}`,
	`{"\u006fciVersion":"escaped key"}`,
	`{"doma\u0130nname":"dotted capital I: no field"}`,
	`{"ho\u017ftname":"long s: hostname"}`,
	`{"ociVersion":"` + "\u2028\u2029" + `"}`,
}

// duplicateKeys are the cases encoding/json accepts and Unmarshal
// leaves to it: a key given twice.
const duplicateKeys = 4

func TestDecodeCases(t *testing.T) {
	accepted, valid := 0, 0
	for _, c := range decodeCases {
		var v linuxSpec
		if json.Unmarshal([]byte(c), &v) == nil {
			valid++
		}
		if decodeBoth[linuxSpec](t, []byte(c)) {
			accepted++
		}
	}
	if accepted != valid-duplicateKeys {
		t.Errorf("Unmarshal accepted %d of the %d cases encoding/json accepts, want all but the %d with a key given twice",
			accepted, valid, duplicateKeys)
	}
}

type foldDeep struct {
	Name int `json:"nAme"`
}

// foldTwice has two fields whose names fold alike. encoding/json decodes
// a key that is neither name exactly into the first in field order, the
// embedded one; built on encoding/json/v2, into the first breadth-first.
type foldTwice struct {
	foldDeep
	NAME int
}

// TestFoldedNameTwice: Unmarshal decodes as encoding/json does, or
// refuses on encoding/json v2.
func TestFoldedNameTwice(t *testing.T) {
	if decodeBoth[foldTwice](t, []byte(`{"name":1}`)) == reflectjson.JSONV2 {
		t.Errorf("Unmarshal accepted: %t, want %t (encoding/json v2: %t)", !reflectjson.JSONV2, reflectjson.JSONV2, reflectjson.JSONV2)
	}
}
