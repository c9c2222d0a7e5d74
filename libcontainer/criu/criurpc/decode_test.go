package criurpc

import (
	"reflect"
	"strings"
	"testing"

	"github.com/checkpoint-restore/go-criu/v7/rpc"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Answers as criu writes them, in go-criu's types, and as UnmarshalResp
// must read them.
var respTests = []struct {
	name string
	in   *rpc.CriuResp
	want *Resp
}{
	{
		"notification",
		&rpc.CriuResp{Type: rpc.CriuReqType_NOTIFY.Enum(), Success: proto.Bool(true),
			Notify: &rpc.CriuNotify{Script: proto.String("post-restore"), Pid: proto.Int32(4242)}},
		&Resp{Type: Notify, Success: true, Notify: &NotifyResp{Script: "post-restore", Pid: 4242}},
	},
	{
		"empty notification",
		&rpc.CriuResp{Type: rpc.CriuReqType_NOTIFY.Enum(), Success: proto.Bool(true), Notify: &rpc.CriuNotify{}},
		&Resp{Type: Notify, Success: true, Notify: &NotifyResp{}},
	},
	{
		"version",
		&rpc.CriuResp{Type: rpc.CriuReqType_VERSION.Enum(), Success: proto.Bool(true),
			Version: &rpc.CriuVersion{MajorNumber: proto.Int32(4), MinorNumber: proto.Int32(1), Gitid: proto.String("v4.1-12-gabcdef"),
				Sublevel: proto.Int32(1), Extra: proto.Int32(7), Name: proto.String("CRISCV")}},
		&Resp{Type: Version, Success: true, Version: &VersionResp{Major: 4, Minor: 1, GitID: "v4.1-12-gabcdef", Sublevel: 1, Extra: 7, Name: "CRISCV"}},
	},
	{
		"version without sublevel",
		&rpc.CriuResp{Type: rpc.CriuReqType_VERSION.Enum(), Success: proto.Bool(true),
			Version: &rpc.CriuVersion{MajorNumber: proto.Int32(3), MinorNumber: proto.Int32(0)}},
		&Resp{Type: Version, Success: true, Version: &VersionResp{Major: 3}},
	},
	{
		"failure",
		&rpc.CriuResp{Type: rpc.CriuReqType_DUMP.Enum(), Success: proto.Bool(false),
			CrErrno: proto.Int32(5), CrErrmsg: proto.String("Error (criu/cr-dump.c:2111): Dumping FAILED.\n")},
		&Resp{Type: Dump, CrErrno: 5, CrErrmsg: "Error (criu/cr-dump.c:2111): Dumping FAILED.\n"},
	},
	{
		"negative errno",
		&rpc.CriuResp{Type: rpc.CriuReqType_RESTORE.Enum(), Success: proto.Bool(false), CrErrno: proto.Int32(-22)},
		&Resp{Type: Restore, CrErrno: -22},
	},
	{
		"features",
		&rpc.CriuResp{Type: rpc.CriuReqType_FEATURE_CHECK.Enum(), Success: proto.Bool(true),
			Features: &rpc.CriuFeatures{MemTrack: proto.Bool(true), LazyPages: proto.Bool(false)}},
		&Resp{Type: FeatureCheck, Success: true, Features: &Features{MemTrack: On, LazyPages: Off}},
	},
	{
		"memory tracking missing",
		&rpc.CriuResp{Type: rpc.CriuReqType_FEATURE_CHECK.Enum(), Success: proto.Bool(true),
			Features: &rpc.CriuFeatures{MemTrack: proto.Bool(false)}},
		&Resp{Type: FeatureCheck, Success: true, Features: &Features{MemTrack: Off}},
	},
	{
		"restored pid",
		&rpc.CriuResp{Type: rpc.CriuReqType_RESTORE.Enum(), Success: proto.Bool(true), Restore: &rpc.CriuRestoreResp{Pid: proto.Int32(31337)}},
		&Resp{Type: Restore, Success: true, Restore: &RestoreResp{Pid: 31337}},
	},
	{
		"dump restored",
		&rpc.CriuResp{Type: rpc.CriuReqType_DUMP.Enum(), Success: proto.Bool(true), Dump: &rpc.CriuDumpResp{Restored: proto.Bool(true)}},
		&Resp{Type: Dump, Success: true, Dump: &DumpResp{Restored: true}},
	},
	{
		"dump",
		&rpc.CriuResp{Type: rpc.CriuReqType_DUMP.Enum(), Success: proto.Bool(true), Dump: &rpc.CriuDumpResp{Restored: proto.Bool(false)}},
		&Resp{Type: Dump, Success: true, Dump: &DumpResp{}},
	},
	{
		"page server",
		&rpc.CriuResp{Type: rpc.CriuReqType_PAGE_SERVER.Enum(), Success: proto.Bool(true),
			Ps: &rpc.CriuPageServerInfo{Address: proto.String("::1"), Port: proto.Int32(27182), Pid: proto.Int32(77), Fd: proto.Int32(9)}},
		&Resp{Type: PageServer, Success: true, Ps: &PageServerInfo{Address: "::1", Port: 27182, Pid: 77, Fd: 9}},
	},
	{
		"wait pid",
		&rpc.CriuResp{Type: rpc.CriuReqType_WAIT_PID.Enum(), Success: proto.Bool(true), Status: proto.Int32(256)},
		&Resp{Type: WaitPid, Success: true, Status: 256},
	},
	{
		"empty type",
		&rpc.CriuResp{Type: rpc.CriuReqType_EMPTY.Enum(), Success: proto.Bool(false)},
		&Resp{Type: Empty},
	},
}

func TestUnmarshalAgainstGoCriu(t *testing.T) {
	for _, tt := range respTests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := proto.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := UnmarshalResp(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			if !reflect.DeepEqual(got, fromGoCriu(tt.in)) {
				t.Errorf("got %+v\nfromGoCriu %+v", got, fromGoCriu(tt.in))
			}
		})
	}
}

// unknownFields are fields of every wire type that no message has.
func unknownFields() []byte {
	var b []byte
	b = protowire.AppendVarint(protowire.AppendTag(b, 100, protowire.VarintType), 1<<63)
	b = protowire.AppendFixed32(protowire.AppendTag(b, 101, protowire.Fixed32Type), 0xdeadbeef)
	b = protowire.AppendFixed64(protowire.AppendTag(b, 102, protowire.Fixed64Type), 1)
	b = protowire.AppendString(protowire.AppendTag(b, 103, protowire.BytesType), "from a newer criu")
	b = protowire.AppendTag(b, 104, protowire.StartGroupType)
	b = protowire.AppendVarint(protowire.AppendTag(b, 1, protowire.VarintType), 5)
	b = protowire.AppendTag(b, 105, protowire.StartGroupType)
	b = protowire.AppendTag(b, 105, protowire.EndGroupType)
	b = protowire.AppendTag(b, 104, protowire.EndGroupType)
	return protowire.AppendVarint(protowire.AppendTag(b, maxFieldNumber, protowire.VarintType), 3)
}

// TestUnknownFields checks that fields a newer criu may send, in the
// answer and in its messages, are skipped.
func TestUnknownFields(t *testing.T) {
	u := unknownFields()
	var b []byte
	b = append(b, u...)
	b = protowire.AppendVarint(protowire.AppendTag(b, 1, protowire.VarintType), uint64(Notify))
	b = append(b, u...)
	b = protowire.AppendVarint(protowire.AppendTag(b, 2, protowire.VarintType), 1)
	notify := append(protowire.AppendString(protowire.AppendTag(u, 1, protowire.BytesType), "pre-dump"), u...)
	b = protowire.AppendBytes(protowire.AppendTag(b, 5, protowire.BytesType), notify)
	b = protowire.AppendBytes(protowire.AppendTag(b, 4, protowire.BytesType),
		append(protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 7), u...))
	b = protowire.AppendBytes(protowire.AppendTag(b, 8, protowire.BytesType), u)
	b = append(b, u...)

	var g rpc.CriuResp
	if err := proto.Unmarshal(b, &g); err != nil {
		t.Fatalf("go-criu: %v", err)
	}
	got, err := UnmarshalResp(b)
	if err != nil {
		t.Fatal(err)
	}
	want := &Resp{Type: Notify, Success: true, Notify: &NotifyResp{Script: "pre-dump"}, Restore: &RestoreResp{Pid: 7}, Features: &Features{}}
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(got, fromGoCriu(&g)) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// TestMerge checks that a repeated message field merges and a repeated
// scalar field takes the last value, as in protobuf.
func TestMerge(t *testing.T) {
	var b []byte
	b = protowire.AppendVarint(protowire.AppendTag(b, 1, protowire.VarintType), uint64(Dump))
	b = protowire.AppendVarint(protowire.AppendTag(b, 1, protowire.VarintType), uint64(Version))
	b = protowire.AppendVarint(protowire.AppendTag(b, 2, protowire.VarintType), 1)
	// The version's required fields come in two parts.
	b = protowire.AppendBytes(protowire.AppendTag(b, 10, protowire.BytesType),
		protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 4))
	b = protowire.AppendBytes(protowire.AppendTag(b, 10, protowire.BytesType),
		protowire.AppendVarint(protowire.AppendTag(nil, 2, protowire.VarintType), 1))
	b = protowire.AppendString(protowire.AppendTag(b, 9, protowire.BytesType), "first")
	b = protowire.AppendString(protowire.AppendTag(b, 9, protowire.BytesType), "second")

	var g rpc.CriuResp
	if err := proto.Unmarshal(b, &g); err != nil {
		t.Fatalf("go-criu: %v", err)
	}
	got, err := UnmarshalResp(b)
	if err != nil {
		t.Fatal(err)
	}
	want := &Resp{Type: Version, Success: true, Version: &VersionResp{Major: 4, Minor: 1}, CrErrmsg: "second"}
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(got, fromGoCriu(&g)) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// bad are answers UnmarshalResp refuses, and what its error says.
var bad = []struct {
	name string
	in   []byte
	err  string
}{
	{"empty", nil, "required field criu_resp.type not set"},
	{"no success", []byte{0x08, 0x01}, "required field criu_resp.success not set"},
	{"no type", []byte{0x10, 0x01}, "required field criu_resp.type not set"},
	{"restore without pid", []byte{0x08, 0x02, 0x10, 0x01, 0x22, 0x00}, "criu_restore_resp.pid not set"},
	{"version without minor", []byte{0x08, 0x0a, 0x10, 0x01, 0x52, 0x02, 0x08, 0x03}, "criu_version.minor_number not set"},
	{"version without major", []byte{0x08, 0x0a, 0x10, 0x01, 0x52, 0x02, 0x10, 0x03}, "criu_version.major_number not set"},
	{"unknown type", []byte{0x08, 0x63, 0x10, 0x01}, "criu_resp field 1: unknown request type 99"},
	{"negative type", []byte{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x10, 0x01}, "unknown request type -1"},

	{"tag without value", []byte{0x08}, "criu_resp field 1: truncated"},
	{"truncated varint", []byte{0x08, 0x80}, "truncated"},
	{"truncated tag", []byte{0x80}, "truncated"},
	{"varint overflow", []byte{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, "overflows"},
	{"eleven byte varint", []byte{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81, 0x00}, "overflows"},
	{"truncated string", []byte{0x08, 0x01, 0x10, 0x00, 0x4a, 0x05, 'a', 'b'}, "criu_resp field 9: truncated"},
	{"huge length", []byte{0x4a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "truncated"},
	{"truncated message", []byte{0x08, 0x06, 0x10, 0x01, 0x2a, 0x04, 0x08}, "criu_resp field 5: truncated"},
	{"truncated in message", []byte{0x08, 0x06, 0x10, 0x01, 0x2a, 0x01, 0x0a}, "criu_notify field 1: truncated"},
	{"truncated fixed32", []byte{0x08, 0x01, 0x10, 0x01, 0xad, 0x06, 0x01, 0x02}, "field 101: truncated"},
	{"truncated fixed64", []byte{0x08, 0x01, 0x10, 0x01, 0xb1, 0x06, 1, 2, 3, 4, 5, 6, 7}, "field 102: truncated"},

	{"type as bytes", []byte{0x0a, 0x00, 0x10, 0x01}, "criu_resp field 1: wire type bytes, want varint"},
	{"success as fixed32", []byte{0x08, 0x01, 0x15, 0, 0, 0, 0}, "criu_resp field 2: wire type fixed32, want varint"},
	{"message as varint", []byte{0x08, 0x06, 0x10, 0x01, 0x28, 0x01}, "criu_resp field 5: wire type varint, want bytes"},
	{"string as varint", []byte{0x08, 0x01, 0x10, 0x00, 0x48, 0x01}, "criu_resp field 9: wire type varint, want bytes"},
	{"nested wrong type", []byte{0x08, 0x06, 0x10, 0x01, 0x2a, 0x02, 0x08, 0x01}, "criu_notify field 1: wire type varint, want bytes"},
	{"feature as bytes", []byte{0x08, 0x09, 0x10, 0x01, 0x42, 0x02, 0x0a, 0x00}, "criu_features field 1: wire type bytes, want varint"},

	{"field number 0", []byte{0x00, 0x00}, "invalid field number 0"},
	{"field number too big", []byte{0xf8, 0xff, 0xff, 0xff, 0x1f, 0x00}, "invalid field number"},
	{"wire type 6", []byte{0x08, 0x01, 0x10, 0x01, 0xa6, 0x06}, "invalid wire type 6"},
	{"wire type 7", []byte{0xa7, 0x06}, "invalid wire type 7"},
	{"end group alone", []byte{0x08, 0x01, 0x10, 0x01, 0xa4, 0x06}, "end of a group that did not start"},
	{"end group in message", []byte{0x08, 0x06, 0x10, 0x01, 0x2a, 0x01, 0x1c}, "criu_notify field 3: end of a group"},
	{"group not ended", []byte{0x08, 0x01, 0x10, 0x01, 0xa3, 0x06, 0x08, 0x01}, "truncated"},
	{"group ends as another", []byte{0xa3, 0x06, 0xac, 0x06}, "group 100 ends as 101"},
}

func TestUnmarshalBad(t *testing.T) {
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			r, err := UnmarshalResp(tt.in)
			if err == nil || r != nil {
				t.Fatalf("got %+v, %v; want an error", r, err)
			}
			if !strings.Contains(err.Error(), tt.err) {
				t.Errorf("error %q lacks %q", err, tt.err)
			}
		})
	}
}

// TestTruncated cuts a full answer everywhere: UnmarshalResp fails where
// go-criu fails (inside a field, or before a required one), and agrees
// with it where the cut falls between fields.
func TestTruncated(t *testing.T) {
	b, err := proto.Marshal(&rpc.CriuResp{Type: rpc.CriuReqType_VERSION.Enum(), Success: proto.Bool(true),
		Version: &rpc.CriuVersion{MajorNumber: proto.Int32(4), MinorNumber: proto.Int32(1), Gitid: proto.String("abc")},
		CrErrno: proto.Int32(-1), CrErrmsg: proto.String("none"), Status: proto.Int32(3)})
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, unknownFields()...)
	for i := range b {
		got, err := UnmarshalResp(b[:i])
		var g rpc.CriuResp
		gerr := proto.Unmarshal(b[:i], &g)
		if (err == nil) != (gerr == nil) {
			t.Fatalf("cut at %d of %d: error %v, go-criu %v", i, len(b), err, gerr)
		}
		if err == nil && !reflect.DeepEqual(got, fromGoCriu(&g)) {
			t.Errorf("cut at %d: got %+v, go-criu %+v", i, got, fromGoCriu(&g))
		}
	}
}

// FuzzUnmarshalResp feeds UnmarshalResp anything: it never panics, never
// accepts what go-criu refuses, and where both accept, they agree.
func FuzzUnmarshalResp(f *testing.F) {
	for _, tt := range respTests {
		b, err := proto.Marshal(tt.in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(append(b, unknownFields()...))
	}
	for _, tt := range bad {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := UnmarshalResp(b)
		if (got == nil) == (err == nil) {
			t.Fatalf("got %+v and %v", got, err)
		}
		var g rpc.CriuResp
		gerr := proto.Unmarshal(b, &g)
		switch {
		case err == nil && gerr != nil:
			t.Fatalf("accepted %+v, go-criu refuses: %v", got, gerr)
		case err == nil && !reflect.DeepEqual(got, fromGoCriu(&g)):
			t.Fatalf("got %+v, go-criu reads %+v", got, fromGoCriu(&g))
		}
	})
}

// fromGoCriu is what UnmarshalResp must read where go-criu reads m.
func fromGoCriu(m *rpc.CriuResp) *Resp {
	flag := func(b *bool) Flag {
		if b == nil {
			return Unset
		}
		return FlagOf(*b)
	}
	r := &Resp{
		Type:     ReqType(m.GetType()),
		Success:  m.GetSuccess(),
		CrErrno:  m.GetCrErrno(),
		CrErrmsg: m.GetCrErrmsg(),
		Status:   m.GetStatus(),
	}
	if m.Dump != nil {
		r.Dump = &DumpResp{Restored: m.Dump.GetRestored()}
	}
	if m.Restore != nil {
		r.Restore = &RestoreResp{Pid: m.Restore.GetPid()}
	}
	if m.Notify != nil {
		r.Notify = &NotifyResp{Script: m.Notify.GetScript(), Pid: m.Notify.GetPid()}
	}
	if m.Ps != nil {
		r.Ps = &PageServerInfo{Address: m.Ps.GetAddress(), Port: m.Ps.GetPort(), Pid: m.Ps.GetPid(), Fd: m.Ps.GetFd()}
	}
	if f := m.Features; f != nil {
		r.Features = &Features{MemTrack: flag(f.MemTrack), LazyPages: flag(f.LazyPages), PidfdStore: flag(f.PidfdStore)}
	}
	if v := m.Version; v != nil {
		r.Version = &VersionResp{Major: v.GetMajorNumber(), Minor: v.GetMinorNumber(), GitID: v.GetGitid(),
			Sublevel: v.GetSublevel(), Extra: v.GetExtra(), Name: v.GetName()}
	}
	return r
}

func BenchmarkUnmarshalResp(b *testing.B) {
	m, err := proto.Marshal(respTests[2].in)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := UnmarshalResp(m); err != nil {
			b.Fatal(err)
		}
	}
}
