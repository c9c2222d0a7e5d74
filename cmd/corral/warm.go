package main

import "os"

// warmSpawn makes Go's check that pidfds work on another goroutine, for a
// command that spawns a process. The os package makes the check once per
// process, before its first child, by cloning a short-lived child with
// CLONE_VFORK, whose parent thread waits until it has run; finding a
// process (ourselves) makes it. Begun as the command starts, it runs on a
// second CPU while the command reads its files, and os waits for it if
// the command gets to its spawn first.
//
// It is called before any other goroutine is started: a new goroutine
// waits in its P's next slot, from which other Ps are slow to steal it,
// and is pushed out to where they steal from by the next one started.
// Started after another that held the other CPU, the warm-up began only
// when the command first blocked, too late to be done before the spawn.
func warmSpawn() {
	go func() {
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			p.Release()
		}
	}()
}
