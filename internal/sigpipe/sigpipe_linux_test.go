package sigpipe

import (
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestCatch(t *testing.T) {
	ch, err := Catch(unix.SIGUSR1, unix.SIGUSR2, unix.SIGHUP)
	if err != nil {
		t.Fatal(err)
	}
	// Each arrives, in the order sent, and the process lives on (the
	// default action of all three would end it).
	for _, sig := range []unix.Signal{unix.SIGUSR2, unix.SIGHUP, unix.SIGUSR1, unix.SIGUSR1} {
		if err := unix.Kill(os.Getpid(), sig); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-ch:
			if got != sig {
				t.Fatalf("got %v, want %v", got, sig)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%v did not arrive", sig)
		}
	}
	if _, err := Catch(unix.SIGUSR1); err == nil {
		t.Error("a second Catch succeeded")
	}
}
