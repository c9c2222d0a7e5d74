package criurpc

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/checkpoint-restore/go-criu/v7/rpc"
	"google.golang.org/protobuf/proto"
)

// go-criu's generated code is the oracle: what Marshal writes must read
// back through it as the request meant, byte for byte as it would write
// the same request.

// fullReq has every field of Req and Opts set, and fullCriuReq is the
// same request in go-criu's types.
func fullReq() *Req {
	return &Req{
		Type: Restore,
		Opts: &Opts{
			ImagesDirFd:     -1,
			Pid:             4242,
			LogLevel:        4,
			LogFile:         "restore.log",
			Root:            "/run/corral/c1/criu-root",
			ParentImg:       "../parent",
			WorkDirFd:       7,
			GhostLimit:      1 << 22,
			EmptyNs:         0x40000000,
			Timeout:         30,
			FreezeCgroup:    "/sys/fs/cgroup/c1",
			ConfigFile:      "/etc/criu/runc.conf",
			LsmProfile:      "apparmor:corral-default",
			CgroupYard:      "/run/corral/c1/criu-yard",
			LsmMountContext: `system_u:object_r:container_file_t:s0:c1,c2`,
			ImagesDir:       "/var/lib/checkpoints/c1",

			LeaveRunning:    On,
			ExtUnixSk:       Off,
			TcpEstablished:  On,
			EvasiveDevices:  Off,
			ShellJob:        On,
			FileLocks:       Off,
			NotifyScripts:   On,
			TrackMem:        On,
			AutoDedup:       Off,
			LinkRemap:       On,
			ManageCgroups:   On,
			RstSibling:      On,
			AutoExtMnt:      Off,
			ExtSharing:      On,
			ExtMasters:      Off,
			TcpSkipInFlight: On,
			WeakSysctls:     Off,
			LazyPages:       On,
			OrphanPtsMaster: Off,
			TcpClose:        On,

			ManageCgroupsMode: CgStrict,

			Ps:        &PageServerInfo{Address: "10.0.0.1", Port: 27182, Pid: 99, Fd: 5},
			Veths:     []VethPair{{IfIn: "eth0", IfOut: "veth0"}, {IfIn: "eth1", IfOut: "veth1"}},
			ExtMnt:    []ExtMountMap{{Key: "/etc/hosts", Val: "/var/lib/c1/hosts"}, {Key: "/dev/console", Val: "/dev/pts/3"}},
			CgRoot:    []CgroupRoot{{Ctrl: "cpu", Path: "/c1"}, {Ctrl: "", Path: "/system.slice/c1"}},
			InheritFd: []InheritFd{{Key: "extRootNetNS", Fd: 4}, {Key: "pipe:[1234]", Fd: 5}},
			SkipMnt:   []string{"/proc/acpi", "/sys/firmware"},
			EnableFs:  []string{"fuse", "nfs"},
			External:  []string{"net[4026531992]:extRootNetNS", "mnt[/data]:data"},
			JoinNs:    []JoinNamespace{{Ns: "net", NsFile: "/var/run/netns/a", ExtraOpt: "x"}, {Ns: "uts", NsFile: "1234"}},
		},
		NotifySuccess: true,
		KeepOpen:      true,
		Features:      &Features{MemTrack: On, LazyPages: Off, PidfdStore: On},
		Pid:           31337,
	}
}

func fullCriuReq() *rpc.CriuReq {
	b := proto.Bool
	s := proto.String
	i := proto.Int32
	u := proto.Uint32
	return &rpc.CriuReq{
		Type: rpc.CriuReqType_RESTORE.Enum(),
		Opts: &rpc.CriuOpts{
			ImagesDirFd:     i(-1),
			Pid:             i(4242),
			LogLevel:        i(4),
			LogFile:         s("restore.log"),
			Root:            s("/run/corral/c1/criu-root"),
			ParentImg:       s("../parent"),
			WorkDirFd:       i(7),
			GhostLimit:      u(1 << 22),
			EmptyNs:         u(0x40000000),
			Timeout:         u(30),
			FreezeCgroup:    s("/sys/fs/cgroup/c1"),
			ConfigFile:      s("/etc/criu/runc.conf"),
			LsmProfile:      s("apparmor:corral-default"),
			CgroupYard:      s("/run/corral/c1/criu-yard"),
			LsmMountContext: s(`system_u:object_r:container_file_t:s0:c1,c2`),
			ImagesDir:       s("/var/lib/checkpoints/c1"),

			LeaveRunning:    b(true),
			ExtUnixSk:       b(false),
			TcpEstablished:  b(true),
			EvasiveDevices:  b(false),
			ShellJob:        b(true),
			FileLocks:       b(false),
			NotifyScripts:   b(true),
			TrackMem:        b(true),
			AutoDedup:       b(false),
			LinkRemap:       b(true),
			ManageCgroups:   b(true),
			RstSibling:      b(true),
			AutoExtMnt:      b(false),
			ExtSharing:      b(true),
			ExtMasters:      b(false),
			TcpSkipInFlight: b(true),
			WeakSysctls:     b(false),
			LazyPages:       b(true),
			OrphanPtsMaster: b(false),
			TcpClose:        b(true),

			ManageCgroupsMode: rpc.CriuCgMode_STRICT.Enum(),

			Ps: &rpc.CriuPageServerInfo{Address: s("10.0.0.1"), Port: i(27182), Pid: i(99), Fd: i(5)},
			Veths: []*rpc.CriuVethPair{
				{IfIn: s("eth0"), IfOut: s("veth0")},
				{IfIn: s("eth1"), IfOut: s("veth1")},
			},
			ExtMnt: []*rpc.ExtMountMap{
				{Key: s("/etc/hosts"), Val: s("/var/lib/c1/hosts")},
				{Key: s("/dev/console"), Val: s("/dev/pts/3")},
			},
			CgRoot: []*rpc.CgroupRoot{
				{Ctrl: s("cpu"), Path: s("/c1")},
				{Ctrl: s(""), Path: s("/system.slice/c1")},
			},
			InheritFd: []*rpc.InheritFd{
				{Key: s("extRootNetNS"), Fd: i(4)},
				{Key: s("pipe:[1234]"), Fd: i(5)},
			},
			SkipMnt:  []string{"/proc/acpi", "/sys/firmware"},
			EnableFs: []string{"fuse", "nfs"},
			External: []string{"net[4026531992]:extRootNetNS", "mnt[/data]:data"},
			JoinNs: []*rpc.JoinNamespace{
				{Ns: s("net"), NsFile: s("/var/run/netns/a"), ExtraOpt: s("x")},
				{Ns: s("uts"), NsFile: s("1234")},
			},
		},
		NotifySuccess: b(true),
		KeepOpen:      b(true),
		Features:      &rpc.CriuFeatures{MemTrack: b(true), LazyPages: b(false), PidfdStore: b(true)},
		Pid:           u(31337),
	}
}

// TestFullReqSetsEveryField keeps fullReq complete: a field added to the
// messages and not to it fails here, before it goes untested.
func TestFullReqSetsEveryField(t *testing.T) {
	var check func(path string, v reflect.Value)
	check = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			check(path, v.Elem())
		case reflect.Slice:
			// The first of a list sets every field.
			check(path+"[0]", v.Index(0))
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				f := v.Type().Field(i)
				if v.Field(i).IsZero() {
					t.Errorf("fullReq leaves %s.%s unset", path, f.Name)
					continue
				}
				check(path+"."+f.Name, v.Field(i))
			}
		}
	}
	check("Req", reflect.ValueOf(fullReq()))
}

func TestMarshalAgainstGoCriu(t *testing.T) {
	tests := []struct {
		name string
		req  *Req
		want *rpc.CriuReq
	}{
		{"every field", fullReq(), fullCriuReq()},
		{"type only", &Req{Type: Version}, &rpc.CriuReq{Type: rpc.CriuReqType_VERSION.Enum()}},
		{
			// The required images_dir_fd goes out even when 0.
			"zero options",
			&Req{Type: Dump, Opts: &Opts{}},
			&rpc.CriuReq{Type: rpc.CriuReqType_DUMP.Enum(), Opts: &rpc.CriuOpts{ImagesDirFd: proto.Int32(0)}},
		},
		{
			// Off goes out as false; Unset does not go out.
			"flags off",
			&Req{Type: PreDump, Opts: &Opts{ImagesDirFd: 3, TcpEstablished: Off, ShellJob: Off, ManageCgroups: On}},
			&rpc.CriuReq{Type: rpc.CriuReqType_PRE_DUMP.Enum(), Opts: &rpc.CriuOpts{
				ImagesDirFd: proto.Int32(3), TcpEstablished: proto.Bool(false), ShellJob: proto.Bool(false), ManageCgroups: proto.Bool(true),
			}},
		},
		{
			// Ignore is criu's 0, and goes out.
			"cgroups ignored",
			&Req{Type: Dump, Opts: &Opts{ImagesDirFd: 3, ManageCgroupsMode: CgIgnore}},
			&rpc.CriuReq{Type: rpc.CriuReqType_DUMP.Enum(), Opts: &rpc.CriuOpts{ImagesDirFd: proto.Int32(3), ManageCgroupsMode: rpc.CriuCgMode_IGNORE.Enum()}},
		},
		{
			"negative numbers",
			&Req{Type: Dump, Opts: &Opts{ImagesDirFd: -2147483648, Pid: -1, Ps: &PageServerInfo{Port: -7}}},
			&rpc.CriuReq{Type: rpc.CriuReqType_DUMP.Enum(), Opts: &rpc.CriuOpts{
				ImagesDirFd: proto.Int32(-2147483648), Pid: proto.Int32(-1), Ps: &rpc.CriuPageServerInfo{Port: proto.Int32(-7)},
			}},
		},
		{
			"empty page server",
			&Req{Type: Dump, Opts: &Opts{ImagesDirFd: 3, Ps: &PageServerInfo{}}},
			&rpc.CriuReq{Type: rpc.CriuReqType_DUMP.Enum(), Opts: &rpc.CriuOpts{ImagesDirFd: proto.Int32(3), Ps: &rpc.CriuPageServerInfo{}}},
		},
		{
			"notification handled",
			&Req{Type: Notify, NotifySuccess: true},
			&rpc.CriuReq{Type: rpc.CriuReqType_NOTIFY.Enum(), NotifySuccess: proto.Bool(true)},
		},
		{
			// criu reads a missing notify_success as false.
			"notification failed",
			&Req{Type: Notify},
			&rpc.CriuReq{Type: rpc.CriuReqType_NOTIFY.Enum()},
		},
		{
			"feature check",
			&Req{Type: FeatureCheck, Features: &Features{MemTrack: On}},
			&rpc.CriuReq{Type: rpc.CriuReqType_FEATURE_CHECK.Enum(), Features: &rpc.CriuFeatures{MemTrack: proto.Bool(true)}},
		},
		{
			"required empty strings",
			&Req{Type: Restore, Opts: &Opts{ImagesDirFd: 3, ExtMnt: []ExtMountMap{{}}, InheritFd: []InheritFd{{}}, Veths: []VethPair{{}}, JoinNs: []JoinNamespace{{}}, CgRoot: []CgroupRoot{{}}}},
			&rpc.CriuReq{Type: rpc.CriuReqType_RESTORE.Enum(), Opts: &rpc.CriuOpts{
				ImagesDirFd: proto.Int32(3),
				ExtMnt:      []*rpc.ExtMountMap{{Key: proto.String(""), Val: proto.String("")}},
				InheritFd:   []*rpc.InheritFd{{Key: proto.String(""), Fd: proto.Int32(0)}},
				Veths:       []*rpc.CriuVethPair{{IfIn: proto.String(""), IfOut: proto.String("")}},
				JoinNs:      []*rpc.JoinNamespace{{Ns: proto.String(""), NsFile: proto.String("")}},
				CgRoot:      []*rpc.CgroupRoot{{Ctrl: proto.String(""), Path: proto.String("")}},
			}},
		},
		{
			// A message longer than 127 bytes has a longer length.
			"long option",
			&Req{Type: Dump, Opts: &Opts{ImagesDirFd: 3, Root: string(bytes.Repeat([]byte("r"), 300))}},
			&rpc.CriuReq{Type: rpc.CriuReqType_DUMP.Enum(), Opts: &rpc.CriuOpts{ImagesDirFd: proto.Int32(3), Root: proto.String(string(bytes.Repeat([]byte("r"), 300)))}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.req.Marshal()
			got := &rpc.CriuReq{}
			if err := proto.Unmarshal(b, got); err != nil {
				t.Fatalf("go-criu cannot read it: %v", err)
			}
			if len(got.ProtoReflect().GetUnknown()) != 0 {
				t.Errorf("go-criu does not know some fields: %x", got.ProtoReflect().GetUnknown())
			}
			if !proto.Equal(got, tt.want) {
				t.Errorf("go-criu reads\n%v\nwant\n%v", got, tt.want)
			}
			want, err := proto.MarshalOptions{Deterministic: true}.Marshal(tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, want) {
				t.Errorf("Marshal\n%x\ngo-criu writes\n%x", b, want)
			}
			prefix := []byte("prefix")
			if got := tt.req.AppendMarshal(prefix); !bytes.Equal(got, append(prefix, want...)) {
				t.Errorf("AppendMarshal lost the prefix or differs: %x", got)
			}
		})
	}
}

// TestCgModeNumbers checks each mode against go-criu's number and name.
func TestCgModeNumbers(t *testing.T) {
	for m := CgIgnore; m <= CgDefault; m++ {
		r := &Req{Type: Dump, Opts: &Opts{ManageCgroupsMode: m}}
		got := &rpc.CriuReq{}
		if err := proto.Unmarshal(r.Marshal(), got); err != nil {
			t.Fatal(err)
		}
		if got.GetOpts().ManageCgroupsMode == nil {
			t.Errorf("%v not sent", m)
			continue
		}
		if g := got.GetOpts().GetManageCgroupsMode(); g.String() != m.String() {
			t.Errorf("%v goes out as %v (%d)", m, g, g)
		}
	}
	if _, ok := rpc.CriuCgMode_name[int32(CgDefault)]; ok {
		t.Errorf("go-criu has a mode after DEFAULT: add it")
	}
	if s := CgUnset.String(); s != "UNSET" {
		t.Errorf("CgUnset is %q", s)
	}
}

// TestReqTypeNames checks the names against go-criu's, unknown numbers
// included.
func TestReqTypeNames(t *testing.T) {
	for n := int32(-2); n < 40; n++ {
		if got, want := ReqType(n).String(), rpc.CriuReqType(n).String(); got != want {
			t.Errorf("ReqType(%d) is %q, go-criu says %q", n, got, want)
		}
		_, named := rpc.CriuReqType_name[n]
		if ReqType(n).known() != named {
			t.Errorf("ReqType(%d).known() is %v", n, !named)
		}
	}
}

func TestFlagOf(t *testing.T) {
	if FlagOf(true) != On || FlagOf(false) != Off || Flag(0) != Unset {
		t.Error("FlagOf")
	}
}

func BenchmarkMarshal(b *testing.B) {
	r := fullReq()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = r.AppendMarshal(buf[:0])
	}
}
