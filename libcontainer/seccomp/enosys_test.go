package seccomp

import (
	"errors"
	"slices"
	"testing"
)

const (
	testAuditI386 = 0x40000003
	testAuditARM  = 0x40000028
	testENOSYS    = 38
	retENOSYS     = secRetErrno | testENOSYS
)

// marker is what the stand-in program of ABI i returns:
// SECCOMP_RET_TRACE with data no stub returns.
func marker(i int) uint32 { return 0x7ff0be00 + uint32(i) }

// program is a stand-in for libseccomp's program of ABI i: n filler
// loads, then its marker, so a test sees which program a syscall reached.
func program(i, n int) []insn {
	p := make([]insn, 0, n+1)
	for range n {
		p = append(p, insn{Code: bpfLD | bpfW | bpfABS, K: offNr})
	}
	return append(p, insn{Code: bpfRET | bpfK, K: marker(i)})
}

func TestRunBPF(t *testing.T) {
	// if arch == i386 && (nr & 0xf0) == 0x10 { return nr } else { return 7 }
	prog := []insn{
		{Code: bpfLD | bpfW | bpfABS, K: offArch},
		{Code: bpfJMP | bpfJEQ | bpfK, Jt: 0, Jf: 4, K: testAuditI386},
		{Code: bpfLD | bpfW | bpfABS, K: offNr},
		{Code: bpfALU | 0x50 | bpfK, K: 0xf0},
		{Code: bpfJMP | bpfJEQ | bpfK, Jt: 0, Jf: 1, K: 0x10},
		{Code: bpfRET | bpfA},
		{Code: bpfRET | bpfK, K: 7},
	}
	for _, tc := range []struct {
		d    seccompData
		want uint32
	}{
		{seccompData{arch: testAuditI386, nr: 0x13}, 0x10},
		{seccompData{arch: testAuditI386, nr: 0x23}, 7},
		{seccompData{arch: auditArchX86_64, nr: 0x13}, 7},
	} {
		got, err := runBPF(prog, tc.d)
		if err != nil || got != tc.want {
			t.Errorf("run(%+v) = %#x, %v; want %#x", tc.d, got, err, tc.want)
		}
	}
	if _, err := runBPF(prog[:2], seccompData{}); err == nil {
		t.Error("running off the end: no error")
	}
}

type linkCase struct {
	name string
	arch uint32
	nr   uint32
	want uint32
}

func checkLink(t *testing.T, abis []abiProgram, cases []linkCase) {
	t.Helper()
	prog, err := link(abis, testENOSYS)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		got, err := runBPF(prog, seccompData{arch: tc.arch, nr: int32(tc.nr)})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got != tc.want {
			t.Errorf("%s (arch %#x nr %#x): got %#x, want %#x", tc.name, tc.arch, tc.nr, got, tc.want)
		}
	}
}

func TestLink(t *testing.T) {
	abis := []abiProgram{
		{arch: auditArchX86_64, limit: 300, hasLimit: true, prog: program(0, 3)},
		{arch: testAuditI386, limit: 400, hasLimit: true, prog: program(1, 0)},
		{arch: auditArchX86_64, x32: true, limit: x32SyscallBit | 200, hasLimit: true, prog: program(2, 5)},
	}
	checkLink(t, abis, []linkCase{
		{"x86_64 zero", auditArchX86_64, 0, marker(0)},
		{"x86_64 at limit", auditArchX86_64, 300, marker(0)},
		{"x86_64 above limit", auditArchX86_64, 301, retENOSYS},
		{"x86_64 far above", auditArchX86_64, 1000, retENOSYS},
		{"x86_64 below x32", auditArchX86_64, x32SyscallBit - 1, retENOSYS},
		{"x32 zero", auditArchX86_64, x32SyscallBit, marker(2)},
		{"x32 at limit", auditArchX86_64, x32SyscallBit | 200, marker(2)},
		{"x32 above limit", auditArchX86_64, x32SyscallBit | 201, retENOSYS},
		{"x32 top", auditArchX86_64, negativeNr - 1, retENOSYS},
		{"x86_64 nr -1", auditArchX86_64, 0xffffffff, marker(0)},
		{"x86_64 negative", auditArchX86_64, negativeNr, marker(0)},
		{"i386 at limit", testAuditI386, 400, marker(1)},
		{"i386 above limit", testAuditI386, 401, retENOSYS},
		{"i386 x32 bit is just a number", testAuditI386, x32SyscallBit, retENOSYS},
		{"i386 nr -1", testAuditI386, 0xffffffff, marker(1)},
		{"other arch: the first program", testAuditARM, 5000, marker(0)},
	})
}

// Without x32 in the filter, x32 numbers must reach x86_64's program,
// which applies libseccomp's bad-architecture action to them; ENOSYS
// would be wrong.
func TestLinkHalves(t *testing.T) {
	checkLink(t, []abiProgram{
		{arch: auditArchX86_64, limit: 300, hasLimit: true, prog: program(0, 0)},
	}, []linkCase{
		{"above limit", auditArchX86_64, 301, retENOSYS},
		{"x32", auditArchX86_64, x32SyscallBit, marker(0)},
		{"x32 high", auditArchX86_64, x32SyscallBit | 999, marker(0)},
	})
	// Only x32: x86_64 numbers go to its program.
	checkLink(t, []abiProgram{
		{arch: auditArchX86_64, x32: true, limit: x32SyscallBit | 10, hasLimit: true, prog: program(0, 0)},
		{arch: testAuditI386, prog: program(1, 0)},
	}, []linkCase{
		{"x86_64", auditArchX86_64, 5000, marker(0)},
		{"x32 at limit", auditArchX86_64, x32SyscallBit | 10, marker(0)},
		{"x32 above limit", auditArchX86_64, x32SyscallBit | 11, retENOSYS},
		{"x32 negative", auditArchX86_64, 0xffffffff, marker(0)},
		{"i386 without limit", testAuditI386, 5000, marker(1)},
	})
}

// Without limits there is no ENOSYS, only the dispatch; a single
// program without a limit is returned untouched.
func TestLinkNoLimit(t *testing.T) {
	checkLink(t, []abiProgram{
		{arch: auditArchX86_64, prog: program(0, 0)},
		{arch: testAuditI386, prog: program(1, 0)},
		{arch: auditArchX86_64, x32: true, prog: program(2, 0)},
	}, []linkCase{
		{"x86_64", auditArchX86_64, 5000, marker(0)},
		{"i386", testAuditI386, 5000, marker(1)},
		{"x32", auditArchX86_64, x32SyscallBit | 5000, marker(2)},
		{"x32 negative", auditArchX86_64, 0xffffffff, marker(0)},
		{"arm", testAuditARM, 1, marker(0)},
	})
	p := program(0, 2)
	got, err := link([]abiProgram{{arch: testAuditI386, prog: p}}, testENOSYS)
	if err != nil || !slices.Equal(got, p) {
		t.Fatalf("a single program without a limit changed: %v", err)
	}
}

// Jumps must reach programs far beyond 255 instructions, and many
// architectures must not push a conditional jump out of its 8 bits.
func TestLinkFarJumps(t *testing.T) {
	var abis []abiProgram
	for i := range 100 {
		abis = append(abis, abiProgram{arch: 0x1000 + uint32(i), limit: 100 + uint32(i), hasLimit: i%3 != 0, prog: program(i, 1000-10*i)})
	}
	prog, err := link(abis, testENOSYS)
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) < 10000 {
		t.Fatalf("%d instructions: too short to test far jumps", len(prog))
	}
	for i, p := range abis {
		var above uint32 = retENOSYS
		if !p.hasLimit {
			above = marker(i)
		}
		for nr, want := range map[uint32]uint32{0: marker(i), p.limit: marker(i), p.limit + 1: above} {
			if got, err := runBPF(prog, seccompData{arch: p.arch, nr: int32(nr)}); err != nil || got != want {
				t.Fatalf("arch %#x nr %d: got %#x, %v; want %#x", p.arch, nr, got, err, want)
			}
		}
	}
	if got, err := runBPF(prog, seccompData{arch: 1, nr: 5}); err != nil || got != marker(0) {
		t.Fatalf("unknown arch: got %#x, %v", got, err)
	}
}

func TestLinkErrors(t *testing.T) {
	p := program(0, 0)
	for name, abis := range map[string][]abiProgram{
		"nothing":              nil,
		"empty program":        {{arch: testAuditI386, hasLimit: true, limit: 3}},
		"x32 on i386":          {{arch: testAuditI386, x32: true, prog: p}},
		"x32 without the bit":  {{arch: auditArchX86_64, x32: true, hasLimit: true, limit: 10, prog: p}},
		"x32 negative":         {{arch: auditArchX86_64, x32: true, hasLimit: true, limit: 0xffffffff, prog: p}},
		"x86_64 with x32 bit":  {{arch: auditArchX86_64, hasLimit: true, limit: x32SyscallBit | 1, prog: p}},
		"negative limit":       {{arch: testAuditI386, hasLimit: true, limit: negativeNr, prog: p}},
		"two programs":         {{arch: testAuditI386, prog: p}, {arch: testAuditI386, prog: p}},
		"two x32 programs":     {{arch: auditArchX86_64, x32: true, prog: p}, {arch: auditArchX86_64, x32: true, prog: p}},
		"i386 limit above x32": {{arch: testAuditI386, hasLimit: true, limit: negativeNr | 1, prog: p}},
	} {
		if _, err := link(abis, testENOSYS); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestAssembler(t *testing.T) {
	// A conditional jump past 255 instructions cannot be encoded.
	var a assembler
	far := a.newLabel()
	a.jump(bpfJMP|bpfJEQ|bpfK, 1, far, next)
	for range 256 {
		a.stmt(bpfLD|bpfW|bpfABS, offNr)
	}
	a.place(far)
	a.stmt(bpfRET|bpfK, 0)
	if _, err := a.assemble(); !errors.Is(err, errJumpRange) {
		t.Errorf("far conditional jump: %v, want errJumpRange", err)
	}

	// Exactly 255 is fine; a JA goes anywhere.
	a = assembler{}
	far = a.newLabel()
	farther := a.newLabel()
	a.stmt(bpfLD|bpfW|bpfABS, offArch)
	a.jump(bpfJMP|bpfJEQ|bpfK, 1, far, next)
	a.jumpTo(farther)
	for range 254 {
		a.stmt(bpfLD|bpfW|bpfABS, offNr)
	}
	a.place(far)
	a.stmt(bpfRET|bpfK, 1)
	for range 1000 {
		a.stmt(bpfLD|bpfW|bpfABS, offNr)
	}
	a.place(farther)
	a.stmt(bpfRET|bpfK, 2)
	prog, err := a.assemble()
	if err != nil {
		t.Fatal(err)
	}
	if prog[1].Jt != 255 || prog[2].K != 254+1+1000 {
		t.Fatalf("offsets: jt %d, ja %d", prog[1].Jt, prog[2].K)
	}
	for arch, want := range map[uint32]uint32{1: 1, 0: 2} {
		if got, err := runBPF(prog, seccompData{arch: arch}); err != nil || got != want {
			t.Errorf("A=%d: got %d, %v; want %d", arch, got, err, want)
		}
	}

	// Backward jumps and unplaced labels are refused.
	a = assembler{}
	back := a.newLabel()
	a.place(back)
	a.stmt(bpfLD|bpfW|bpfABS, offNr)
	a.jumpTo(back)
	if _, err := a.assemble(); !errors.Is(err, errJumpRange) {
		t.Errorf("backward jump: %v", err)
	}
	a = assembler{}
	a.jumpTo(a.newLabel())
	if _, err := a.assemble(); err == nil {
		t.Error("unplaced label: no error")
	}
}

func TestFilterMarshal(t *testing.T) {
	in := &Filter{prog: program(0, 3), flags: 0x9}
	in.prog[0].Jt, in.prog[0].Jf = 1, 2
	b, err := in.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var out Filter
	if err := out.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if out.flags != in.flags || !slices.Equal(out.prog, in.prog) {
		t.Fatalf("round trip: got %+v, want %+v", out, *in)
	}
	for name, bad := range map[string][]byte{
		"empty":       nil,
		"magic":       append([]byte("xxxx"), b[4:]...),
		"short":       b[:len(b)-1],
		"long":        append(slices.Clone(b), 0),
		"no program":  append(slices.Clone(b[:8]), 0, 0, 0, 0),
		"huge count":  append(slices.Clone(b[:8]), 0xff, 0xff, 0xff, 0xff),
		"header only": b[:12],
	} {
		if err := new(Filter).UnmarshalBinary(bad); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// FuzzLink links random sets of programs: link either refuses them or
// builds a program whose every jump lands inside it and that routes each
// ABI's syscalls to its program or to ENOSYS.
func FuzzLink(f *testing.F) {
	f.Add([]byte{0, 2, 1, 0x2c, 3, 1, 2, 1, 0x90, 0, 0, 3, 0, 0, 200})
	f.Add([]byte{1, 0, 0, 0, 255, 2, 2, 0xff, 0xff, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		var abis []abiProgram
		for i := 0; len(data) >= 5 && i < 40; i, data = i+1, data[5:] {
			p := abiProgram{
				arch:     []uint32{auditArchX86_64, testAuditI386, testAuditARM, 0x1000 + uint32(data[0])}[data[0]%4],
				x32:      data[1]&1 != 0,
				hasLimit: data[1]&2 != 0,
				limit:    uint32(data[2])<<8 | uint32(data[3]),
				prog:     program(i, int(data[4])*int(data[1]>>2)),
			}
			if p.x32 {
				p.limit |= x32SyscallBit
			}
			abis = append(abis, p)
		}
		prog, err := link(abis, testENOSYS)
		if err != nil {
			return
		}
		for i, p := range abis {
			nrs := map[uint32]uint32{p.limit: marker(i)}
			if p.hasLimit {
				nrs[p.limit+1] = retENOSYS
			}
			for nr, want := range nrs {
				got, err := runBPF(prog, seccompData{arch: p.arch, nr: int32(nr)})
				if err != nil {
					t.Fatalf("abi %d (%+v) nr %#x: %v", i, p.arch, nr, err)
				}
				if got != want {
					t.Fatalf("abi %d (arch %#x x32 %v) nr %#x: got %#x, want %#x", i, p.arch, p.x32, nr, got, want)
				}
			}
		}
	})
}
