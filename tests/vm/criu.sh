#!/usr/bin/env bash
# Runs the checkpoint/restore suite (tests/integration/criu) where criu
# works: in the VM of ../shared/vm (Debian 12's 6.1 kernel, pure cgroup
# v2), with the host's Debian criu shipped in (run-in-vm.sh --criu). On
# some host kernels every criu dump hangs, and there the suite skips.
#
# A second VM turns its cgroups into the hybrid layout of our hosts
# (hybrid-cgroups.sh: v1 controllers, cgroup2 on /sys/fs/cgroup/unified)
# and runs the tests whose containers differ there: criu dumped no
# container with a cgroup2 bind in its /sys/fs/cgroup.
#
# The VM has no Go: the test binary and corral (./build.sh, as it ships)
# are built here and shipped, with the busybox rootfs. The lane takes 2 to
# 8 minutes here, as busy as the host is: most of it is criu's own work
# under emulation (a dump or a restore of a container takes seconds).
#
#   tests/vm/criu.sh [-test.run REGEXP]
#
# -test.run REGEXP runs those tests, in both layouts.
set -euo pipefail
cd "$(dirname "$0")/../.."

. tests/vm/lib.sh
need_vm "criu"
if ! command -v criu >/dev/null; then
	echo "criu lane: criu is not installed (tests/setup.sh installs Debian's)" >&2
	exit 1
fi

run=.
hybrid_run='TestCounterContinues|TestCgroupMounts|TestPodNamespaces|TestBindMount|TestLibCheckpointRestore'
if [ "${1:-}" = "-test.run" ]; then
	run=$2
	hybrid_run=$2
fi

ship=$(mktemp -d)
out=$(mktemp)
trap 'rm -rf "$ship" "$out"' EXIT
chmod 755 "$ship"
tests/rootfs/build.sh
mkdir -p "$ship/bin"
go test -c -o "$ship/bin/criu.test" ./tests/integration/criu
./build.sh "$ship/bin/corral"
cp tests/vm/hybrid-cgroups.sh "$ship/bin/hybrid-cgroups"
cp -a tests/rootfs/busybox "$ship/rootfs"
# lane [run-in-vm options] [--hybrid]: one VM, the tests of $run (or, in
# the hybrid layout, of $hybrid_run). run-in-vm.sh --criu ships the criu
# in $PATH (Debian's, not the one ../shared/criu/install.sh puts in
# /opt), where the suite finds it.
lane() {
	local setup="" tests=$run
	if [ "${*: -1}" = --hybrid ]; then
		set -- "${@:1:$(($# - 1))}"
		setup="hybrid-cgroups && echo 'criu lane: hybrid cgroup layout' && "
		tests=$hybrid_run
	fi
	"$vm" --criu --timeout 1200 --mem 2G "$@" \
		-e CORRAL_TEST_ROOTFS=/ship/rootfs -e CORRAL_TEST_BINARY=/ship/bin/corral -e RUN="$tests" \
		"$ship" sh -c "${setup}exec criu.test -test.v -test.count=1 -test.timeout=900s -test.run \"\$RUN\""
}
# run_lane [--hybrid]: the lane, and its verdict.
run_lane() {
	local rc=0
	lane "$@" | tee "$out" || rc=$?
	# A VM that printed nothing before the harness killed it (124) hung
	# while booting: boot it once more, showing the boot log.
	if [ "$rc" = 124 ] && ! [ -s "$out" ]; then
		echo "criu lane: the VM printed nothing before its timeout; booting it again (-v)" >&2
		rc=0
		lane -v "$@" || rc=$?
	fi
	# The suite skips every test where criu cannot dump; in the VM it must.
	if [ "$rc" = 0 ] && grep -q "checkpoint/restore tests will skip" "$out"; then
		echo "criu lane: criu does not work in the VM (see above)" >&2
		rc=1
	fi
	return "$rc"
}
rc=0
run_lane || rc=$?
echo "criu lane: now in the hybrid cgroup layout"
run_lane --hybrid || rc=$?
exit "$rc"
