#!/usr/bin/env bash
# Runs the integration tests that depend on the cgroup version in a VM with
# a pure cgroup v2 hierarchy (../shared/vm/run-in-vm.sh): limits, stats,
# pause, OOM events, cgroup mounts, and exec born in its cgroup with clone3.
#
#   tests/vm/cgroup2.sh [-test.run REGEXP]
set -euo pipefail
cd "$(dirname "$0")/../.."

. tests/vm/lib.sh
need_vm "cgroup v2"

lane_run 'CgroupV2|Memory|Pids|CPU|Pause|Destroy|SetRaises|Stats|BadResources|CgroupInUse|ExecJoins|ExecConcurrent|Cgroup|MountTypes|Readme|Status|Exec|RootlessDelegated|Seccomp' "$@"
new_ship
go test -c -o "$ship/bin/lib.test" ./tests/integration/lib
go build -o "$ship/bin/readme" ./examples/readme
cp -a tests/rootfs/busybox "$ship/rootfs"
# The timeouts are far above what the lane needs. A test that hangs is killed by its own
# timeout, which prints where every goroutine was; a VM that has printed
# nothing when the harness kills it (exit 124) hung while booting, which
# happened once in a CI run here: boot it once more, showing the boot log.
lane() {
	"$vm" --timeout 420 --mem 2G --modules overlay,loop "$@" \
		-e CORRAL_TEST_ROOTFS=/ship/rootfs -e CORRAL_README_BIN=/ship/bin/readme \
		"$ship" lib.test -test.v -test.count=1 -test.timeout=300s -test.run "$run"
}
rc=0
out=$(mktemp)
trap 'rm -rf "$ship" "$out"' EXIT
lane | tee "$out" || rc=$?
if [ "$rc" = 124 ] && ! [ -s "$out" ]; then
	echo "cgroup v2 lane: the VM printed nothing before its timeout; booting it again (-v)" >&2
	rc=0
	lane -v || rc=$?
fi
exit "$rc"
