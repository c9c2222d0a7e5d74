package libcontainer

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/corral-oci/corral/libcontainer/configs"
	"github.com/corral-oci/corral/libcontainer/internal/initsync"
)

// Init gets the Config without the parts only the runtime uses, and
// everything else intact, through the conversation's own encoding.
func TestInitConfigLeavesOutRuntimeParts(t *testing.T) {
	cfg := &configs.Config{
		Rootfs:   "/bundle/rootfs",
		Hostname: "box",
		Mounts: []*configs.Mount{
			{Source: "proc", Destination: "/proc", Device: "proc"},
		},
		Namespaces: configs.Namespaces{{Type: configs.NEWPID}, {Type: configs.NEWNS}},
		Cgroups: &configs.Cgroup{
			Path:      "/corral/box",
			Resources: &configs.Resources{CpuShares: 512},
		},
		Seccomp: &configs.Seccomp{DefaultAction: configs.Allow},
		Sysctl:  map[string]string{"kernel.domainname": "example"},
	}
	s := &setup{
		Mode:    modeInit,
		ID:      "box",
		Config:  cfg,
		Process: processSetup{Args: []string{"sh"}, Env: []string{"A=1"}},
	}
	timeout := 3 * time.Second
	cfg.Hooks = configs.Hooks{
		configs.Prestart:        {configs.NewCommandHook(configs.Command{Path: "/bin/pre"})},
		configs.CreateContainer: {configs.NewCommandHook(configs.Command{Path: "/bin/cc", Args: []string{"cc", "-x"}, Env: []string{"A=1"}})},
		configs.StartContainer: {
			&configs.CommandHook{Command: configs.Command{Path: "/bin/sc", Dir: "/", Timeout: &timeout}},
			configs.NewCommandHook(configs.Command{Path: "/bin/sc2"}),
		},
	}
	state := &specs.State{ID: "box", Pid: 7, Annotations: map[string]string{"a": "b"}}
	if err := s.setHooks(cfg.Hooks, state); err != nil {
		t.Fatal(err)
	}
	s.encodeConfig()
	var buf bytes.Buffer
	if err := initsync.Send(&buf, initsync.Config, s); err != nil {
		t.Fatal(err)
	}
	var got setup
	if err := initsync.Expect(&buf, initsync.Config, &got); err != nil {
		t.Fatal(err)
	}
	if got.Config != nil {
		t.Fatal("the runtime's own Config travelled")
	}
	if err := got.decodeConfig(); err != nil {
		t.Fatal(err)
	}
	want := *cfg
	want.Cgroups, want.Seccomp, want.Hooks = nil, nil, nil
	if !reflect.DeepEqual(got.Config, &want) {
		t.Errorf("decoded config\n%+v\nwant\n%+v", got.Config, &want)
	}
	if !reflect.DeepEqual(got.Process, s.Process) || got.ID != "box" || got.Mode != modeInit {
		t.Errorf("decoded setup %+v, want %+v", got, s)
	}
	// init gets the hooks it runs, as commands, and the state they read.
	wantHooks := initHooks{
		CreateContainer: []configs.Command{{Path: "/bin/cc", Args: []string{"cc", "-x"}, Env: []string{"A=1"}}},
		StartContainer:  []configs.Command{{Path: "/bin/sc", Dir: "/", Timeout: &timeout}, {Path: "/bin/sc2"}},
	}
	if !reflect.DeepEqual(got.Hooks, wantHooks) {
		t.Errorf("init's hooks %+v, want %+v", got.Hooks, wantHooks)
	}
	var gotState specs.State
	if err := json.Unmarshal(got.HookState, &gotState); err != nil || !reflect.DeepEqual(&gotState, state) {
		t.Errorf("the hooks' state %s (%v), want %+v", got.HookState, err, state)
	}
	// The runtime's Config is untouched.
	if cfg.Cgroups == nil || cfg.Seccomp == nil || len(cfg.Hooks) != 3 {
		t.Error("encoding dropped the runtime's cgroup, seccomp or hooks")
	}
}

// Without hooks for init, the state is not rendered at all.
func TestSetupWithoutInitHooks(t *testing.T) {
	var s setup
	h := configs.Hooks{configs.Poststart: {configs.NewCommandHook(configs.Command{Path: "/bin/p"})}}
	if err := s.setHooks(h, &specs.State{ID: "box"}); err != nil {
		t.Fatal(err)
	}
	if s.HookState != nil || s.Hooks.CreateContainer != nil || s.Hooks.StartContainer != nil {
		t.Errorf("setup for a container whose init runs no hooks: %+v", s)
	}
}

// goHook is a hook of the embedding program, a Go value.
type goHook struct{}

func (goHook) Run(*specs.State) error { return nil }

// A hook that is not a command cannot run in init, which is another
// process: refused, naming it.
func TestSetupRefusesGoHooksInInit(t *testing.T) {
	for _, h := range []configs.Hooks{
		{configs.CreateContainer: {configs.NewCommandHook(configs.Command{Path: "/bin/x"}), goHook{}}},
		{configs.StartContainer: {(*configs.CommandHook)(nil)}},
	} {
		var s setup
		err := s.setHooks(h, &specs.State{})
		if err == nil || !strings.Contains(err.Error(), "only command hooks") {
			t.Errorf("hooks %v: error %v, want one saying only command hooks run in init", h, err)
		}
	}
	// Elsewhere they run in the program itself.
	var s setup
	if err := s.setHooks(configs.Hooks{configs.Poststart: {goHook{}}}, &specs.State{}); err != nil {
		t.Errorf("a Go poststart hook: %v", err)
	}
}

// The setup, and the error init sends back, are made only of types that
// posenc encodes field by field: no interface, nothing with JSON methods.
// So the child decodes them with posenc alone and builds no JSON codec.
func TestSetupNeedsNoJSON(t *testing.T) {
	marshaler := reflect.TypeFor[json.Marshaler]()
	unmarshaler := reflect.TypeFor[json.Unmarshaler]()
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type, path string) []string
	walk = func(typ reflect.Type, path string) []string {
		if seen[typ] {
			return nil
		}
		seen[typ] = true
		var bad []string
		pt := reflect.PointerTo(typ)
		if typ.Implements(marshaler) || pt.Implements(marshaler) || pt.Implements(unmarshaler) {
			bad = append(bad, path+" ("+typ.String()+") has JSON methods")
		}
		switch typ.Kind() {
		case reflect.Interface:
			bad = append(bad, path+" ("+typ.String()+") is an interface")
		case reflect.Pointer, reflect.Slice, reflect.Array:
			bad = append(bad, walk(typ.Elem(), path+"[]")...)
		case reflect.Map:
			bad = append(bad, walk(typ.Key(), path+"{key}")...)
			bad = append(bad, walk(typ.Elem(), path+"{}")...)
		case reflect.Struct:
			for i := range typ.NumField() {
				f := typ.Field(i)
				if f.Tag.Get("json") == "-" || f.Tag.Get("posenc") == "-" {
					continue
				}
				bad = append(bad, walk(f.Type, path+"."+f.Name)...)
			}
		}
		return bad
	}
	bad := walk(reflect.TypeFor[setup](), "setup")
	bad = append(bad, walk(reflect.TypeFor[initsync.InitError](), "InitError")...)
	for _, b := range bad {
		t.Error(b)
	}
	// The walk sees what a type needing JSON looks like.
	seen = map[reflect.Type]bool{}
	if len(walk(reflect.TypeFor[configs.Hooks](), "hooks")) == 0 {
		t.Error("the walk does not see that configs.Hooks needs JSON")
	}
}
