package initsync

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"syscall"
	"testing"
)

type payload struct {
	Name string
	N    int
	L    []string
}

func TestConversation(t *testing.T) {
	var buf bytes.Buffer
	in := payload{Name: "x", N: -3, L: []string{"a", "b"}}
	if err := Send(&buf, Config, &in); err != nil {
		t.Fatal(err)
	}
	if err := Send(&buf, Ready, nil); err != nil {
		t.Fatal(err)
	}
	if err := Send(&buf, Error, NewError("mount", &wrapped{syscall.EACCES})); err != nil {
		t.Fatal(err)
	}
	var out payload
	if err := Expect(&buf, Config, &out); err != nil {
		t.Fatal(err)
	}
	if out.Name != in.Name || out.N != in.N || strings.Join(out.L, ",") != "a,b" {
		t.Errorf("got %+v, want %+v", out, in)
	}
	if err := Expect(&buf, Ready, nil); err != nil {
		t.Fatal(err)
	}
	err := Expect(&buf, Ready, nil)
	var ie *InitError
	if !errors.As(err, &ie) || ie.Step != "mount" || ie.Message != "open x: permission denied" {
		t.Fatalf("error message came back as %#v", err)
	}
	if !errors.Is(err, syscall.EACCES) {
		t.Errorf("%v does not match EACCES", err)
	}
}

type wrapped struct{ errno syscall.Errno }

func (w *wrapped) Error() string { return "open x: " + w.errno.Error() }
func (w *wrapped) Unwrap() error { return w.errno }

func TestWrongKind(t *testing.T) {
	var buf bytes.Buffer
	if err := Send(&buf, Hooks, nil); err != nil {
		t.Fatal(err)
	}
	err := Expect(&buf, Ready, nil)
	if err == nil || err.Error() != "expected ready message, got hooks" {
		t.Errorf("got %v", err)
	}
}

func TestBadFrames(t *testing.T) {
	frame := func(n uint32, body ...byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, n)
		return append(b, body...)
	}
	var good bytes.Buffer
	if err := Send(&good, Config, &payload{Name: "abc", L: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"empty frame":       frame(0),
		"huge length":       frame(maxMessage + 1),
		"truncated body":    frame(10, byte(Config), 1, 2),
		"bad error payload": frame(2, byte(Error), 0xff),
		"truncated payload": good.Bytes()[:good.Len()-1],
	}
	for name, b := range cases {
		var p payload
		err := Expect(bytes.NewReader(b), Config, &p)
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// Every prefix of a good frame fails.
	for i := range good.Len() {
		var p payload
		if err := Expect(bytes.NewReader(good.Bytes()[:i]), Config, &p); err == nil {
			t.Errorf("prefix of %d bytes: no error", i)
		}
	}
}

func TestKindNames(t *testing.T) {
	for k := Config; k <= SeccompDone; k++ {
		if strings.HasPrefix(k.String(), "kind ") {
			t.Errorf("kind %d has no name", k)
		}
	}
	if Kind(200).String() != "kind 200" {
		t.Errorf("unknown kind: %q", Kind(200).String())
	}
}
