package reflectjson_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/internal/reflectjson"
	"github.com/corral-oci/corral/libcontainer"
)

// The fuzzers hold reflectjson to encoding/json for the three types corral
// reads and writes with it: config.json's spec, state.json's State and
// exec --process's specs.Process. Their seeds are what runtimes write,
// in testdata/<type>: `corral spec`, `runc spec` and `crun spec` (rootless
// too), an engine's bundle, the state.json of a container that corral
// and runc created from it, the process an engine passes to exec; and the
// corners listed here. A crasher a fuzzer finds stays in testdata/fuzz.

// stateCases are inputs for State with encoding/json's corners.
var stateCases = []string{
	`{}`,
	`null`,
	`{"id":"web","init_process_pid":1,"init_process_start":0,"created":"2026-01-02T03:04:05Z","rootless":true}`,
	`{"created":"2026-01-02T03:04:05.123456789+01:00","config":{"hooks":{"prestart":[{"path":"/bin/true","args":["true"],"env":["A=b"],"timeout":1000000000}]}}}`,
	`{"created":"not a time"}`,
	`{"created":"2026-01-02t03:04:05z"}`,
	`{"created":"2026-01-02T03:04:05,5Z"}`,
	`{"created":"2026-01-02T24:00:00+24:00"}`,
	`{"created":"2026\u002d01-02T03:04:05Z"}`,
	`{"created":"0000-01-01T00:00:00-00:00"}`,
	`{"created":null}`,
	`{"config":{"hooks":null}}`,
	`{"config":{"hooks":{"unknown":[{"path":"x"}]}}}`,
	`{"config":{"hooks":{"poststop":[]}},"cgroup_paths":{"":"/sys/fs/cgroup/x","memory":"/m"},"namespace_paths":{"NEWNET":"/proc/1/ns/net"}}`,
	`{"cgroup_paths":{"a":"1","a":"2"}}`,
	`{"ID":"upper","Init_Process_PID":7,"CGROUP_PATHS":{"k":"v"}}`,
	`{"id":"a","ID":"b"}`,
	`{"init_process_pid":9223372036854775807,"init_process_start":18446744073709551615}`,
	`{"init_process_pid":9223372036854775808}`,
	`{"init_process_pid":-1,"init_process_start":-1}`,
	`{"init_process_pid":1.0}`,
	`{"init_process_pid":1e2}`,
	`{"config":{"mounts":[null,{}],"devices":[null]}}`,
	`{"external_descriptors":["/dev/null","pipe:[1]","socket:[2]"],"intel_rdt_path":""}`,
	`{"id":"\u00e9\ud83d\ude00\ud800\udc00x` + "\xff" + `"}`,
	`{"\u0069d":"escaped key"}`,
	`{"\u0130D":"dotted capital I"}`,
	`{"id":"x"} {}`,
}

// processCases are inputs for specs.Process with encoding/json's corners.
var processCases = []string{
	`{}`,
	`null`,
	`{"args":["sh"],"cwd":"/"}`,
	`{"user":{"uid":4294967295,"gid":0,"additionalGids":[]}}`,
	`{"user":{"uid":4294967296}}`,
	`{"user":{"uid":-1}}`,
	`{"user":{"username":"nobody","umask":null}}`,
	`{"consoleSize":{"height":0,"width":65535},"terminal":true}`,
	`{"rlimits":[{"type":"RLIMIT_NOFILE","hard":18446744073709551615,"soft":0}]}`,
	`{"capabilities":null}`,
	`{"capabilities":{"bounding":null,"ambient":[],"effective":["CAP_CHOWN","CAP_CHOWN"]}}`,
	`{"env":["A=\u00e9","B=\ud800","C=` + "\xc3" + `"]}`,
	`{"Args":["x"],"CWD":"/","NoNewPrivileges":true}`,
	`{"args":["a"],"args":["b"]}`,
	`{"args":["a"],"ARGS":["b"]}`,
	`{"u\u017fer":{"uid":1}}`,
	"{\"u\u017fer\":{\"uid\":1}}",
	`{"ioPriority":{"class":"IOPRIO_CLASS_RT","priority":7}}`,
	`{"scheduler":{"policy":"SCHED_FIFO","nice":-20,"priority":1,"flags":["SCHED_FLAG_RESET_ON_FORK"],"runtime":1,"deadline":2,"period":3}}`,
	`{"execCPUAffinity":{"initial":"0-3","final":"1"}}`,
	`{"oomScoreAdj":-1000,"apparmorProfile":"docker-default","selinuxLabel":"system_u:system_r:container_t:s0:c1,c2"}`,
	`{"oomScoreAdj":null}`,
	`{"noNewPrivileges":"true"}`,
	`{"terminal":1}`,
	`{"args":"sh"}`,
	`{"args":["sh"]`,
	`{"args":["sh"]}]`,
}

// addSeeds adds the files of testdata/dir and cases to f's corpus.
func addSeeds(f *testing.F, dir string, cases []string) {
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata/%s: %v", dir, err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, c := range cases {
		f.Add([]byte(c))
	}
}

// FuzzSpec holds reflectjson to encoding/json on config.json.
func FuzzSpec(f *testing.F) {
	addSeeds(f, "spec", decodeCases)
	f.Fuzz(holdToStd[linuxSpec])
}

// FuzzState holds reflectjson to encoding/json on state.json.
func FuzzState(f *testing.F) {
	addSeeds(f, "state", stateCases)
	f.Fuzz(holdToStd[libcontainer.State])
}

// FuzzProcess holds reflectjson to encoding/json on exec's --process.
func FuzzProcess(f *testing.F) {
	addSeeds(f, "process", processCases)
	f.Fuzz(holdToStd[specs.Process])
}

// holdToStd decodes data into a T both ways: Unmarshal gives
// json.Unmarshal's value or refuses, and Decode (Unmarshal, else
// encoding/json) gives json.Unmarshal's value and error. Then the value
// json.Unmarshal made, whole or partial, encodes to json.Marshal's bytes.
func holdToStd[T any](t *testing.T, data []byte) {
	decodeBoth[T](t, data)
	var want, got T
	werr := json.Unmarshal(data, &want)
	gerr := reflectjson.Decode(data, &got, func() error { return json.Unmarshal(data, &got) })
	if fmt.Sprint(gerr) != fmt.Sprint(werr) || !reflect.DeepEqual(got, want) {
		t.Fatalf("Decode: %v\n%#v\nencoding/json: %v\n%#v\ninput:\n%s", gerr, got, werr, want, data)
	}
	encodeBoth(t, &want)
}

// encodeBoth checks that Marshal gives json.Marshal's bytes for v, or an
// error where json.Marshal fails, or ErrUnsupported; and that Encode
// gives json.Marshal's bytes.
func encodeBoth(t *testing.T, v any) {
	t.Helper()
	want, werr := json.Marshal(v)
	got, gerr := reflectjson.Marshal(v)
	switch {
	case errors.Is(gerr, reflectjson.ErrUnsupported):
	case (gerr == nil) != (werr == nil):
		t.Fatalf("Marshal: %v; encoding/json: %v\nvalue: %#v", gerr, werr, v)
	case !bytes.Equal(got, want):
		t.Fatalf("Marshal:\n%s\nencoding/json:\n%s", got, want)
	}
	got, gerr = reflectjson.Encode(v)
	if (gerr == nil) != (werr == nil) || !bytes.Equal(got, want) {
		t.Fatalf("Encode: %v\n%s\nencoding/json: %v\n%s", gerr, got, werr, want)
	}
}
