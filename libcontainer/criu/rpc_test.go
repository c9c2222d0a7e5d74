package criu

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/checkpoint-restore/go-criu/v8/rpc"
)

// The messages go to criu in go-criu v8's encoding (MarshalVT) and come
// back through its decoder (UnmarshalVT). The bytes below are golden:
// what the runtime's own codec wrote and read before go-criu v8 replaced
// it, each checked at the time against go-criu v7's protobuf-go
// encoding (deterministic), the encoding criu reads. They hold v8 to the
// bytes criu expects.

// golden decodes a golden vector.
func golden(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("golden vector %q: %v", s, err)
	}
	return b
}

// fullReq sets every field of the request the runtime has used or may
// use, each to a value that tells it from its neighbours.
func fullReq() *rpc.CriuReq {
	return &rpc.CriuReq{
		Type: rpc.CriuReqType_RESTORE.Enum(),
		Opts: &rpc.CriuOpts{
			ImagesDirFd:     new(int32(-1)),
			Pid:             new(int32(4242)),
			LogLevel:        new(int32(4)),
			LogFile:         new("restore.log"),
			Root:            new("/run/corral/c1/criu-root"),
			ParentImg:       new("../parent"),
			WorkDirFd:       new(int32(7)),
			GhostLimit:      new(uint32(1 << 22)),
			EmptyNs:         new(uint32(0x40000000)),
			Timeout:         new(uint32(30)),
			FreezeCgroup:    new("/sys/fs/cgroup/c1"),
			ConfigFile:      new("/etc/criu/runc.conf"),
			LsmProfile:      new("apparmor:corral-default"),
			CgroupYard:      new("/run/corral/c1/criu-yard"),
			LsmMountContext: new(`system_u:object_r:container_file_t:s0:c1,c2`),
			ImagesDir:       new("/var/lib/checkpoints/c1"),

			LeaveRunning:    new(true),
			ExtUnixSk:       new(false),
			TcpEstablished:  new(true),
			EvasiveDevices:  new(false),
			ShellJob:        new(true),
			FileLocks:       new(false),
			NotifyScripts:   new(true),
			TrackMem:        new(true),
			AutoDedup:       new(false),
			LinkRemap:       new(true),
			ManageCgroups:   new(true),
			RstSibling:      new(true),
			AutoExtMnt:      new(false),
			ExtSharing:      new(true),
			ExtMasters:      new(false),
			TcpSkipInFlight: new(true),
			WeakSysctls:     new(false),
			LazyPages:       new(true),
			OrphanPtsMaster: new(false),
			TcpClose:        new(true),

			ManageCgroupsMode: rpc.CriuCgMode_STRICT.Enum(),

			Ps: &rpc.CriuPageServerInfo{Address: new("10.0.0.1"), Port: new(int32(27182)), Pid: new(int32(99)), Fd: new(int32(5))},
			Veths: []*rpc.CriuVethPair{
				{IfIn: new("eth0"), IfOut: new("veth0")},
				{IfIn: new("eth1"), IfOut: new("veth1")},
			},
			ExtMnt: []*rpc.ExtMountMap{
				{Key: new("/etc/hosts"), Val: new("/var/lib/c1/hosts")},
				{Key: new("/dev/console"), Val: new("/dev/pts/3")},
			},
			CgRoot: []*rpc.CgroupRoot{
				{Ctrl: new("cpu"), Path: new("/c1")},
				{Ctrl: new(""), Path: new("/system.slice/c1")},
			},
			InheritFd: []*rpc.InheritFd{
				{Key: new("extRootNetNS"), Fd: new(int32(4))},
				{Key: new("pipe:[1234]"), Fd: new(int32(5))},
			},
			SkipMnt:  []string{"/proc/acpi", "/sys/firmware"},
			EnableFs: []string{"fuse", "nfs"},
			External: []string{"net[4026531992]:extRootNetNS", "mnt[/data]:data"},
			JoinNs: []*rpc.JoinNamespace{
				{Ns: new("net"), NsFile: new("/var/run/netns/a"), ExtraOpt: new("x")},
				{Ns: new("uts"), NsFile: new("1234")},
			},
		},
		NotifySuccess: new(true),
		KeepOpen:      new(true),
		Features:      &rpc.CriuFeatures{MemTrack: new(true), LazyPages: new(false), PidfdStore: new(true)},
		Pid:           new(uint32(31337)),
	}
}

// reqTests are requests and their golden encodings.
var reqTests = []struct {
	name string
	req  *rpc.CriuReq
	want string
}{
	{"every field", fullReq(), "080212f50408ffffffffffffffffff011092211801200028013000380140004804520b726573746f72652e6c6f675a120a0831302e302e302e3110aed4011863200560016a182f72756e2f636f7272616c2f63312f637269752d726f6f7472092e2e2f706172656e7478018001008801079001019a010d0a0465746830120576657468309a010d0a046574683112057665746831ba011f0a0a2f6574632f686f73747312112f7661722f6c69622f63312f686f737473ba011a0a0c2f6465762f636f6e736f6c65120a2f6465762f7074732f33c00101ca010a0a0363707512032f6331ca01140a0012102f73797374656d2e736c6963652f6331d00101da01100a0c657874526f6f744e65744e531004da010f0a0b706970653a5b313233345d1005e00100e80101f00100fa010a2f70726f632f61637069fa010d2f7379732f6669726d77617265820204667573658202036e6673900205980280808002aa021c6e65745b343032363533313939325d3a657874526f6f744e65744e53aa020f6d6e745b2f646174615d3a64617461b0028080808004ba021a0a036e657412102f7661722f72756e2f6e65746e732f611a0178ba020b0a03757473120431323334e202112f7379732f66732f6367726f75702f6331e8021ef00201f802008003019003009a03132f6574632f637269752f72756e632e636f6e66a00301aa031761707061726d6f723a636f7272616c2d64656661756c74e203182f72756e2f636f7272616c2f63312f637269752d79617264fa032b73797374656d5f753a6f626a6563745f723a636f6e7461696e65725f66696c655f743a73303a63312c6332a204172f7661722f6c69622f636865636b706f696e74732f6331180120012a0608011000180130e9f401"},
	{"type only", &rpc.CriuReq{Type: rpc.CriuReqType_VERSION.Enum()}, "080a"},
	{
		// criu requires images_dir_fd, 0 included.
		"zero options",
		&rpc.CriuReq{Type: rpc.CriuReqType_DUMP.Enum(), Opts: &rpc.CriuOpts{ImagesDirFd: new(int32(0))}},
		"080112020800",
	},
	{
		// false goes out; nil does not.
		"flags off",
		&rpc.CriuReq{Type: rpc.CriuReqType_PRE_DUMP.Enum(), Opts: &rpc.CriuOpts{
			ImagesDirFd: new(int32(3)), TcpEstablished: new(false), ShellJob: new(false), ManageCgroups: new(true),
		}},
		"08041209080328003800c00101",
	},
	{
		// IGNORE is criu's 0, and goes out.
		"cgroups ignored",
		&rpc.CriuReq{Type: rpc.CriuReqType_DUMP.Enum(), Opts: &rpc.CriuOpts{ImagesDirFd: new(int32(3)), ManageCgroupsMode: rpc.CriuCgMode_IGNORE.Enum()}},
		"080112050803900200",
	},
	{
		"negative numbers",
		&rpc.CriuReq{Type: rpc.CriuReqType_DUMP.Enum(), Opts: &rpc.CriuOpts{
			ImagesDirFd: new(int32(-2147483648)), Pid: new(int32(-1)), Ps: &rpc.CriuPageServerInfo{Port: new(int32(-7))},
		}},
		"080112230880808080f8ffffffff0110ffffffffffffffffff015a0b10f9ffffffffffffffff01",
	},
	{
		"empty page server",
		&rpc.CriuReq{Type: rpc.CriuReqType_DUMP.Enum(), Opts: &rpc.CriuOpts{ImagesDirFd: new(int32(3)), Ps: &rpc.CriuPageServerInfo{}}},
		"0801120408035a00",
	},
	{
		"notification handled",
		&rpc.CriuReq{Type: rpc.CriuReqType_NOTIFY.Enum(), NotifySuccess: new(true)},
		"08061801",
	},
	{
		// criu reads a missing notify_success as false.
		"notification failed",
		&rpc.CriuReq{Type: rpc.CriuReqType_NOTIFY.Enum()},
		"0806",
	},
	{
		"feature check",
		&rpc.CriuReq{Type: rpc.CriuReqType_FEATURE_CHECK.Enum(), Features: &rpc.CriuFeatures{MemTrack: new(true)}},
		"08092a020801",
	},
	{
		// The required fields of the lists' messages go out empty.
		"required empty strings",
		&rpc.CriuReq{Type: rpc.CriuReqType_RESTORE.Enum(), Opts: &rpc.CriuOpts{
			ImagesDirFd: new(int32(3)),
			ExtMnt:      []*rpc.ExtMountMap{{Key: new(""), Val: new("")}},
			InheritFd:   []*rpc.InheritFd{{Key: new(""), Fd: new(int32(0))}},
			Veths:       []*rpc.CriuVethPair{{IfIn: new(""), IfOut: new("")}},
			JoinNs:      []*rpc.JoinNamespace{{Ns: new(""), NsFile: new("")}},
			CgRoot:      []*rpc.CgroupRoot{{Ctrl: new(""), Path: new("")}},
		}},
		"0802122508039a01040a001200ba01040a001200ca01040a001200da01040a001000ba02040a001200",
	},
	{
		// A message longer than 127 bytes has a two-byte length.
		"long option",
		&rpc.CriuReq{Type: rpc.CriuReqType_DUMP.Enum(), Opts: &rpc.CriuOpts{ImagesDirFd: new(int32(3)), Root: new(strings.Repeat("r", 300))}},
		"080112b10208036aac02" + strings.Repeat("72", 300),
	},
}

func TestRequestBytes(t *testing.T) {
	for _, tt := range reqTests {
		t.Run(tt.name, func(t *testing.T) {
			want := golden(t, tt.want)
			got, err := tt.req.MarshalVT()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("MarshalVT\n%x\nwant\n%x", got, want)
			}
			back := &rpc.CriuReq{}
			if err := back.UnmarshalVT(want); err != nil {
				t.Fatalf("UnmarshalVT of the golden bytes: %v", err)
			}
			if !back.EqualVT(tt.req) {
				t.Errorf("the golden bytes read back as\n%v\nwant\n%v", back, tt.req)
			}
		})
	}
}

// respTests are answers as criu writes them (golden) and as the runtime
// must read them.
var respTests = []struct {
	name string
	in   string
	want *rpc.CriuResp
}{
	{
		"notification",
		"080610012a110a0c706f73742d726573746f7265109221",
		&rpc.CriuResp{Type: rpc.CriuReqType_NOTIFY.Enum(), Success: new(true),
			Notify: &rpc.CriuNotify{Script: new("post-restore"), Pid: new(int32(4242))}},
	},
	{
		"empty notification",
		"080610012a00",
		&rpc.CriuResp{Type: rpc.CriuReqType_NOTIFY.Enum(), Success: new(true), Notify: &rpc.CriuNotify{}},
	},
	{
		"version",
		"080a10015221080410011a0f76342e312d31322d67616263646566200128073206435249534356",
		&rpc.CriuResp{Type: rpc.CriuReqType_VERSION.Enum(), Success: new(true),
			Version: &rpc.CriuVersion{MajorNumber: new(int32(4)), MinorNumber: new(int32(1)), Gitid: new("v4.1-12-gabcdef"),
				Sublevel: new(int32(1)), Extra: new(int32(7)), Name: new("CRISCV")}},
	},
	{
		"version without sublevel",
		"080a1001520408031000",
		&rpc.CriuResp{Type: rpc.CriuReqType_VERSION.Enum(), Success: new(true),
			Version: &rpc.CriuVersion{MajorNumber: new(int32(3)), MinorNumber: new(int32(0))}},
	},
	{
		"failure",
		"0801100038054a2d4572726f722028637269752f63722d64756d702e633a32313131293a2044756d70696e67204641494c45442e0a",
		&rpc.CriuResp{Type: rpc.CriuReqType_DUMP.Enum(), Success: new(false),
			CrErrno: new(int32(5)), CrErrmsg: new("Error (criu/cr-dump.c:2111): Dumping FAILED.\n")},
	},
	{
		"negative errno",
		"0802100038eaffffffffffffffff01",
		&rpc.CriuResp{Type: rpc.CriuReqType_RESTORE.Enum(), Success: new(false), CrErrno: new(int32(-22))},
	},
	{
		"features",
		"08091001420408011000",
		&rpc.CriuResp{Type: rpc.CriuReqType_FEATURE_CHECK.Enum(), Success: new(true),
			Features: &rpc.CriuFeatures{MemTrack: new(true), LazyPages: new(false)}},
	},
	{
		"memory tracking missing",
		"0809100142020800",
		&rpc.CriuResp{Type: rpc.CriuReqType_FEATURE_CHECK.Enum(), Success: new(true),
			Features: &rpc.CriuFeatures{MemTrack: new(false)}},
	},
	{
		"restored pid",
		"08021001220408e9f401",
		&rpc.CriuResp{Type: rpc.CriuReqType_RESTORE.Enum(), Success: new(true), Restore: &rpc.CriuRestoreResp{Pid: new(int32(31337))}},
	},
	{
		"dump restored",
		"080110011a020801",
		&rpc.CriuResp{Type: rpc.CriuReqType_DUMP.Enum(), Success: new(true), Dump: &rpc.CriuDumpResp{Restored: new(true)}},
	},
	{
		"dump",
		"080110011a020800",
		&rpc.CriuResp{Type: rpc.CriuReqType_DUMP.Enum(), Success: new(true), Dump: &rpc.CriuDumpResp{Restored: new(false)}},
	},
	{
		"page server",
		"08051001320d0a033a3a3110aed401184d2009",
		&rpc.CriuResp{Type: rpc.CriuReqType_PAGE_SERVER.Enum(), Success: new(true),
			Ps: &rpc.CriuPageServerInfo{Address: new("::1"), Port: new(int32(27182)), Pid: new(int32(77)), Fd: new(int32(9))}},
	},
	{
		"wait pid",
		"080b1001588002",
		&rpc.CriuResp{Type: rpc.CriuReqType_WAIT_PID.Enum(), Success: new(true), Status: new(int32(256))},
	},
	{
		"empty type",
		"08001000",
		&rpc.CriuResp{Type: rpc.CriuReqType_EMPTY.Enum(), Success: new(false)},
	},
}

func TestAnswerBytes(t *testing.T) {
	for _, tt := range respTests {
		t.Run(tt.name, func(t *testing.T) {
			in := golden(t, tt.in)
			got := &rpc.CriuResp{}
			if err := got.UnmarshalVT(in); err != nil {
				t.Fatal(err)
			}
			if !got.EqualVT(tt.want) {
				t.Errorf("got\n%v\nwant\n%v", got, tt.want)
			}
			// The answers go one way only; the fake criu of the tests
			// writes them with MarshalVT, which must write what criu
			// does.
			if b, err := tt.want.MarshalVT(); err != nil || !bytes.Equal(b, in) {
				t.Errorf("MarshalVT %x, %v; want %x", b, err, in)
			}
		})
	}
}

// unknownFields are fields of every wire type that no message of
// rpc.proto has, as a newer criu may send: a varint, a fixed32, a
// fixed64, a string, nested groups, and field number 2^29-1.
const unknownFields = "a00680808080808080808001ad06efbeaddeb1060100000000000000ba061166726f6d2061206e657765722063726975c3060805cb06cc06c406f8ffffff0f03"

// TestUnknownFields checks that fields a newer criu may send, in the
// answer and in its messages, are skipped.
func TestUnknownFields(t *testing.T) {
	u := unknownFields
	// The answer: u, type NOTIFY, u, success, notify { u, script
	// "pre-dump", u }, restore { pid 7, u }, features { u }, u.
	in := u + "0806" + u + "1001" +
		"2a8a01" + u + "0a087072652d64756d70" + u +
		"2242" + "0807" + u +
		"4240" + u +
		u
	got := &rpc.CriuResp{}
	if err := got.UnmarshalVT(golden(t, in)); err != nil {
		t.Fatal(err)
	}
	want := &rpc.CriuResp{Type: rpc.CriuReqType_NOTIFY.Enum(), Success: new(true),
		Notify: &rpc.CriuNotify{Script: new("pre-dump")}, Restore: &rpc.CriuRestoreResp{Pid: new(int32(7))}, Features: &rpc.CriuFeatures{}}
	if got.GetType() != want.GetType() || !got.GetSuccess() || got.GetNotify().GetScript() != "pre-dump" ||
		got.GetNotify().Pid != nil || got.GetRestore().GetPid() != 7 || got.Features == nil ||
		got.Features.MemTrack != nil || got.Dump != nil || got.Version != nil || got.CrErrmsg != nil {
		t.Errorf("got\n%v\nwant\n%v", got, want)
	}
}

// TestAnswerRefused checks that answers criu never writes, which the
// runtime's codec refused, are refused: required fields missing, and
// cut short.
func TestAnswerRefused(t *testing.T) {
	for _, tt := range []struct{ name, in string }{
		{"empty", ""},
		{"no success", "0801"},
		{"no type", "1001"},
		{"restore without pid", "080210012200"},
		{"version without minor", "080a100152020803"},
		{"version without major", "080a100152021003"},
		{"tag without value", "08"},
		{"truncated varint", "0880"},
		{"truncated string", "081010004a056162"},
		{"truncated message", "080610012a0408"},
		{"truncated in message", "080610012a010a"},
		{"message as varint", "080610012801"},
		{"string as varint", "080110004801"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := &rpc.CriuResp{}
			if err := r.UnmarshalVT(golden(t, tt.in)); err == nil {
				t.Errorf("accepted %x as %v", golden(t, tt.in), r)
			}
		})
	}
}

// TestTruncated cuts an answer everywhere: a cut inside a field, or
// before a required one, is refused; one between fields reads as the
// fields before it.
func TestTruncated(t *testing.T) {
	fields := []string{
		"080a",                        // type VERSION
		"1001",                        // success
		"520908041001" + "1a03616263", // version {4, 1, "abc"}
		"38ffffffffffffffffff01",      // errno -1
		"4a046e6f6e65",                // errmsg "none"
		"5803",                        // status 3
	}
	b := golden(t, strings.Join(fields, ""))
	// The cuts between fields, and what must read back: from the
	// second on, the required type and success are there.
	between := map[int]*rpc.CriuResp{}
	n := 0
	read := &rpc.CriuResp{}
	for i, f := range fields {
		n += len(f) / 2
		if i == 0 {
			continue
		}
		r := &rpc.CriuResp{}
		if err := r.UnmarshalVT(b[:n]); err != nil {
			t.Fatalf("%d whole fields: %v", i+1, err)
		}
		between[n] = r
		read = r
	}
	want := &rpc.CriuResp{Type: rpc.CriuReqType_VERSION.Enum(), Success: new(true),
		Version: &rpc.CriuVersion{MajorNumber: new(int32(4)), MinorNumber: new(int32(1)), Gitid: new("abc")},
		CrErrno: new(int32(-1)), CrErrmsg: new("none"), Status: new(int32(3))}
	if !read.EqualVT(want) {
		t.Fatalf("the whole answer reads as %v, want %v", read, want)
	}
	if between[4].Version != nil || between[15].GetVersion().GetGitid() != "abc" || between[15].CrErrno != nil || between[32].Status != nil {
		t.Errorf("cuts between fields read as %v", between)
	}
	for i := range b {
		if between[i] != nil {
			continue
		}
		r := &rpc.CriuResp{}
		if err := r.UnmarshalVT(b[:i]); err == nil {
			t.Errorf("cut at %d of %d, inside a field or before success: accepted %v", i, len(b), r)
		}
	}
}

// FuzzAnswer feeds the decoder anything: it never panics, and what it
// accepts it writes back in a form it reads as the same answer.
func FuzzAnswer(f *testing.F) {
	for _, tt := range respTests {
		f.Add(golden(f, tt.in))
		f.Add(golden(f, tt.in+unknownFields))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := &rpc.CriuResp{}
		if err := r.UnmarshalVT(b); err != nil {
			return
		}
		again, err := r.MarshalVT()
		if err != nil {
			t.Fatalf("MarshalVT of an accepted answer: %v", err)
		}
		back := &rpc.CriuResp{}
		if err := back.UnmarshalVT(again); err != nil || !back.EqualVT(r) {
			t.Fatalf("%v reads back as %v, %v", r, back, err)
		}
	})
}

func BenchmarkMarshal(b *testing.B) {
	r := fullReq()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		n := r.SizeVT()
		buf = buf[:n]
		if _, err := r.MarshalToSizedBufferVT(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalResp(b *testing.B) {
	m := golden(b, respTests[2].in)
	b.ReportAllocs()
	for b.Loop() {
		r := &rpc.CriuResp{}
		if err := r.UnmarshalVT(m); err != nil {
			b.Fatal(err)
		}
	}
}
