// Package libcontainer creates containers from namespaces, cgroups,
// capabilities, seccomp and a private root filesystem, and manages their
// lifecycle.
//
// Every program that uses it re-executes itself as the container's first
// process, so it must call Init when started with the argument "init", and
// import the nsenter package for its side effect:
//
//	import _ "github.com/corral-oci/corral/libcontainer/nsenter"
//
//	func init() {
//		if len(os.Args) > 1 && os.Args[1] == "init" {
//			runtime.GOMAXPROCS(1)
//			runtime.LockOSThread()
//			libcontainer.Init()
//			panic("--this line should have never been executed, congratulations--")
//		}
//	}
//
// Link the program statically, as build.sh links corral (-ldflags
// '-extldflags "-static"'; libseccomp must have a static archive). Once set up, init execs the program's own binary
// into a single-threaded wait mode that holds exactly the credentials of
// the container's process; a dynamically linked binary finds no loader
// in the container's root for that exec, and init then waits for start in
// Go, whose other threads keep the runtime's privileges until the
// program's exec: a process of the container allowed to ptrace could use
// them.
//
// A container lives in a state directory <root>/<id> created by Create and
// removed by Destroy. Any process may Load it later: the state on disk and
// the kernel, not the memory of the process that created it, say what the
// container is.
//
// # Environment
//
// This is every environment variable the code of this module reads, the
// library's, the corral command's, the build's and the tests'.
//
// A program that embeds libcontainer (and nsenter) reads none of them for
// itself: whatever it inherits, it runs as it would without. The runtime
// starts children of its own, which are this same binary run with the
// arguments {name, "init", marker}, and each child acts on its variable
// only with its marker, and on its marker only with its variable:
//
//   - _CORRAL_BOOTSTRAP=<fd>, marker --corral-bootstrap: a container's init
//     or a process exec'd into a container. Set by Start, Run and Exec
//     (spawn_linux.go). The nsenter constructor reads the bootstrap
//     message from the fd, joins and creates the namespaces, then Init
//     reads its setup there and builds the container. Init removes the
//     variable before it executes the container's program. With it,
//     _CORRAL_BOOTSTRAP_FDS=<n> says that fds 0 to n-1 are the runtime's.
//   - _CORRAL_WAIT=<sock,fifo,procfs,program,filter,exe,hooks fds>,
//     marker --corral-wait: init once set up, exec'd again by Init into
//     the nsenter constructor's wait mode (waiter_linux.go, nsenter/wait.c),
//     which loads the seccomp filter, says Ready, waits for start and
//     executes the program; it never reaches Go.
//   - _CORRAL_HOOKS=<fifo,hooks,procfs fds>, marker --corral-hooks: init
//     once started, exec'd by the wait mode to run the startContainer
//     hooks in Go (hooks_mode_linux.go); Init runs them and executes the
//     program.
//   - _CORRAL_USERNS_HOLDER=1, marker --corral-userns-holder, name
//     "corral-userns": a process that holds a new user namespace, the id
//     mapping of an idmapped mount, until its stdin closes. Set by Start
//     (idmap_linux.go). The nsenter constructor waits and exits; the
//     process never reaches Go.
//   - _CORRAL_CRIU_ROOT=<JSON job>, marker --corral-criu-root: the criu
//     root helper of Restore, in criu's private mount namespace. Set by
//     Restore (restore_linux.go). Init binds the container's rootfs where
//     criu restores it from and executes criu.
//   - CORRAL_PHASES=<file>: where the phases of a start are recorded
//     (internal/phase), "<pid> <monotonic µs> <phase>" a line. Only the
//     corral command reads it from its environment; the runtime passes it
//     on to init, in which the nsenter constructor (in its bootstrap) and
//     Init record their phases too.
//   - GOMAXPROCS=1 and GOGC=off: set by the runtime for init, which is
//     short-lived and single-threaded; the Go runtime reads them, and Init
//     removes them before it executes the container's program.
//
// A binary built with the corral_testhooks build tag (the reliability
// tests' one; never the shipped library or command) also reads:
//
//   - CORRAL_TEST_PAUSE_AT=<phase> and CORRAL_TEST_PAUSE_FILE=<file>: the
//     runtime reaching that phase writes its pid to the file and sleeps
//     until killed (internal/faults).
//
// One exception, read by the cgroups library on the library's behalf: a
// container of the systemd cgroup driver whose Cgroup is Rootless (the
// corral command sets it when it runs without root) gets its unit from
// the user's systemd, found as systemctl --user finds it:
// DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus.
//
// The corral command reads:
//
//   - CORRAL_PHASES, as above.
//   - XDG_RUNTIME_DIR: the default --root of a user other than root is
//     $XDG_RUNTIME_DIR/corral, as with runc.
//   - LISTEN_FDS and LISTEN_PID: systemd's socket activation. When
//     LISTEN_PID is corral's pid, create and run pass the LISTEN_FDS fds
//     from 3 up to the container's process, with LISTEN_FDS and
//     LISTEN_PID=1 in its environment, as runc does.
//
// The build and the tests read:
//
//   - build.sh: CORRAL_LIBC=glibc (never musl), CORRAL_BUILD_TAGS (extra
//     build tags, corral_testhooks for the reliability tests),
//     CORRAL_CACHE (where libseccomp built for musl is kept).
//   - The integration tests: CORRAL_TEST_ROOTFS (a ready busybox root
//     filesystem), CORRAL_TEST_BINARY (a corral built beforehand),
//     CORRAL_CRIU (the criu binary), CORRAL_CHURN and
//     CORRAL_CHURN_CLI (how many containers the churn tests make),
//     CORRAL_DELEGATED_CGROUP and CORRAL_DELEGATED_WORK (the delegated
//     cgroup test, without root), CORRAL_README_BIN (a built
//     examples/readme), CORRAL_BOOTSTRAP_SEED (the random bootstrap
//     messages' seed), CORRAL_TEST_SYSTEMD_CGROUP=1 (the library's test
//     containers get the systemd driver: tests/vm/systemd.sh sets it);
//     tests/setup.sh CRIU_PREFIX, tests/vm CORRAL_VM (the VM runner) and
//     bench/run.sh CRUN_HYBRID.
//   - Test binaries that start themselves again to play another part set
//     and read a variable of their own: CORRAL_SECURITY_ROLE,
//     CORRAL_SECURITY_JOB, CORRAL_SECURITY_OUT, CORRAL_SECURITY_BINDS
//     (tests/integration/security), CORRAL_SECCOMP_HELPER, CORRAL_FAKE_CRIU,
//     POSENC_TEST_COLD, NSENTER_TEST_CHILD and LIBCONTAINER_TEST_EMBEDDER.
package libcontainer
