package nsenter

import (
	"encoding/binary"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/corral-oci/corral/libcontainer/internal/bootstrap"
)

func validMessage(t testing.TB) []byte {
	m := &bootstrap.Message{
		Join:        []bootstrap.Join{{Type: unix.CLONE_NEWUSER, FD: 5}, {Type: unix.CLONE_NEWNET, FD: 6}},
		Unshare:     unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWTIME,
		TimeOffsets: true,
		Fork:        true,
		Root:        true,
		Cgroups:     []string{"/sys/fs/cgroup/pids/c1/tasks", "/sys/fs/cgroup/memory/c1/tasks"},
	}
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseRoundTrip(t *testing.T) {
	p, err := parse(validMessage(t))
	if err != nil {
		t.Fatal(err)
	}
	if p.Unshare != unix.CLONE_NEWNS|unix.CLONE_NEWPID|unix.CLONE_NEWTIME || !p.Fork || !p.Root || !p.Timens ||
		len(p.Join) != 2 || p.Join[0] != [2]int32{unix.CLONE_NEWUSER, 5} || p.Join[1] != [2]int32{unix.CLONE_NEWNET, 6} ||
		len(p.Cgroups) != 2 || p.Cgroups[1] != "/sys/fs/cgroup/memory/c1/tasks" {
		t.Fatalf("parsed %+v", p)
	}
}

// TestParseEveryTruncation: a message cut at any length, or with a header
// that lies about its length, is refused (CVE-2021-43784).
func TestParseEveryTruncation(t *testing.T) {
	msg := validMessage(t)
	for n := 0; n < len(msg); n++ {
		if _, err := parse(msg[:n]); err == nil {
			t.Errorf("a message truncated to %d of %d bytes was accepted", n, len(msg))
		}
		lying := append([]byte(nil), msg[:n]...)
		if n >= 8 {
			binary.NativeEndian.PutUint32(lying[4:], uint32(len(msg)))
			if _, err := parse(lying); err == nil {
				t.Errorf("a %d-byte message claiming %d bytes was accepted", n, len(msg))
			}
		}
	}
	longer := append(append([]byte(nil), msg...), 0, 0, 0, 0)
	if _, err := parse(longer); err == nil {
		t.Error("trailing bytes beyond the header's length were accepted")
	}
}

func TestParseBadRecords(t *testing.T) {
	rec := func(typ, n uint16, val ...byte) []byte {
		b := binary.NativeEndian.AppendUint16(nil, typ)
		b = binary.NativeEndian.AppendUint16(b, n)
		return append(b, val...)
	}
	msg := func(recs ...[]byte) []byte {
		b := make([]byte, 8)
		for _, r := range recs {
			b = append(b, r...)
		}
		binary.NativeEndian.PutUint32(b, 0x31524c43)
		binary.NativeEndian.PutUint32(b[4:], uint32(len(b)))
		return b
	}
	join := func(fd int32) []byte {
		v := binary.NativeEndian.AppendUint32(nil, unix.CLONE_NEWNET)
		return rec(2, 8, binary.NativeEndian.AppendUint32(v, uint32(fd))...)
	}
	var tooMany [][]byte
	for i := 0; i < 17; i++ {
		tooMany = append(tooMany, join(int32(3+i)))
	}
	for name, tt := range map[string]struct {
		msg  []byte
		want string
	}{
		"bad magic":          {append([]byte{1, 2, 3, 4}, msg()[4:]...), "bad magic"},
		"unknown record":     {msg(rec(99, 0)), "unknown record type 99"},
		"short unshare":      {msg(rec(1, 2, 0, 0)), "unshare record of 2 bytes"},
		"long join":          {msg(rec(2, 9, make([]byte, 9)...)), "join record of 9 bytes"},
		"negative fd":        {msg(join(-1)), "negative namespace fd"},
		"too many joins":     {msg(tooMany...), "more than 16 namespaces"},
		"record past end":    {msg(rec(3, 10, 'a')), "runs past the end"},
		"half a header":      {msg([]byte{3, 0}), "truncated record header"},
		"offsets as text":    {msg(rec(3, 3, 'a', 0, 'b')), "must be one byte 0 or 1"},
		"offsets, no timens": {msg(rec(3, 1, 1)), "without a new time namespace"},
		"flag out of range":  {msg(rec(4, 1, 2)), "must be one byte 0 or 1"},
		"flag of two bytes":  {msg(rec(5, 2, 1, 1)), "must be one byte 0 or 1"},
		"oversized message":  {func() []byte { b := msg(rec(3, 0)); binary.NativeEndian.PutUint32(b[4:], 1<<20); return b }(), "header says"},
	} {
		_, err := parse(tt.msg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error with %q", name, err, tt.want)
		}
	}
}

// FuzzParse feeds the C parser arbitrary bytes: it must never crash, and
// what it accepts must re-encode to the same message.
func FuzzParse(f *testing.F) {
	f.Add(validMessage(f))
	f.Add([]byte{})
	f.Add(make([]byte, 8))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parse(b)
		if err != nil {
			return
		}
		if len(b) < 8 || int(binary.NativeEndian.Uint32(b[4:])) != len(b) {
			t.Fatalf("accepted a message whose header does not match its %d bytes", len(b))
		}
		if len(p.Join) > bootstrap.MaxJoin || len(p.Cgroups) > bootstrap.MaxCgroups {
			t.Fatalf("accepted out-of-bounds content: %+v", p)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	msg := validMessage(b)
	for b.Loop() {
		if _, err := parse(msg); err != nil {
			b.Fatal(err)
		}
	}
}
