package procstat

import (
	"errors"
	"os"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  Stat
		isErr bool
	}{
		{
			name: "plain",
			in:   "42 (sh) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 12345 1000 100 18446744073709551615",
			want: Stat{PID: 42, Name: "sh", State: 'S', PPID: 1, StartTime: 12345},
		},
		{
			name: "name with spaces and parens",
			in:   "7 (a) b (c)) Z 3 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0",
			want: Stat{PID: 7, Name: "a) b (c)", State: Zombie, PPID: 3, StartTime: 99},
		},
		{name: "empty", in: "", isErr: true},
		{name: "no name", in: "1 S 0 1", isErr: true},
		{name: "short", in: "1 (x) S 0 1 1", isErr: true},
		{name: "bad pid", in: "x (y) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99", isErr: true},
		{name: "bad state", in: "1 (y) SS 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99", isErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in))
			if tt.isErr {
				if !errors.Is(err, ErrFormat) {
					t.Fatalf("Parse(%q) error = %v, want ErrFormat", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *got != tt.want {
				t.Fatalf("Parse(%q) = %+v, want %+v", tt.in, *got, tt.want)
			}
		})
	}
}

func TestReadSelf(t *testing.T) {
	s, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.PID != os.Getpid() || !s.Alive() || s.StartTime == 0 {
		t.Fatalf("Read(self) = %+v", s)
	}
	if _, err := Read(1 << 30); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Read(no such pid) error = %v, want ErrNotExist", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("42 (sh) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 12345 1000 100"))
	f.Add([]byte("1 ()) R 0"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err == nil && s == nil {
			t.Fatal("nil stat without error")
		}
	})
}

func BenchmarkRead(b *testing.B) {
	pid := os.Getpid()
	for b.Loop() {
		if _, err := Read(pid); err != nil {
			b.Fatal(err)
		}
	}
}
