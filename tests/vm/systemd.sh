#!/usr/bin/env bash
# Runs the systemd cgroup driver for real, in the VM of ../shared/vm whose
# PID 1 is systemd (run-in-vm.sh --systemd: cgroup v2 in systemd's layout,
# the system bus): the library's lifecycle tests with the driver
# (lib.test, CORRAL_TEST_SYSTEMD_CGROUP=1), the CLI's (systemd-cli.sh),
# a rootless container in the user's systemd (systemd-rootless.sh),
# containerd's CRI plugin with SystemdCgroup = true driving corral, driven
# by crictl (engines.test -test.run TestCRI), and the VM runner's own
# check of a runtime's systemd and cgroupfs drivers
# (examples/systemd-runc.sh, 21 checks). Two boots; the image with
# containerd is built once and cached.
#
#   tests/vm/systemd.sh [-test.run REGEXP]    # REGEXP: of lib.test
set -euo pipefail
cd "$(dirname "$0")/../.."

. tests/vm/lib.sh
need_vm systemd
skip() { echo "skipping the systemd lane: $*"; exit 0; }
command -v mmdebstrap >/dev/null || skip "mmdebstrap is not installed (the systemd guest's image needs it)"
command -v jq >/dev/null || skip "jq is not installed"
examples=$(dirname "$vm")/examples
# dbus-user-session: the user's bus, for rootless containers in the
# user's systemd.
packages="containerd iproute2 dbus-user-session"
# The image (Debian with systemd, containerd) is built once; a machine
# that cannot build it (no archive) cannot run the lane.
if ! out=$("$vm" --systemd --packages "$packages" --prepare 2>&1); then
	echo "$out" | tail -n 20
	skip "the systemd guest's image cannot be built here (above)"
fi

lane_run 'Systemd|MemoryLimit|Pids|Pause|Destroy|SetRaises|Stats|CgroupInUse|ExecJoins|Status' "$@"
new_ship
./build.sh "$ship/bin/corral"
go test -c -o "$ship/bin/lib.test" ./tests/integration/lib
go test -c -o "$ship/bin/engines.test" ./tests/integration/engines
crictl=$(command -v crictl || echo "$(go env GOPATH)/bin/crictl")
if [ -x "$crictl" ]; then
	cp "$crictl" "$ship/bin/crictl"
else
	echo "systemd lane: no crictl (tests/setup.sh installs it); the CRI test will skip" >&2
fi
cp -a tests/rootfs/busybox "$ship/rootfs"
cp tests/vm/systemd-cli.sh tests/vm/systemd-rootless.sh "$ship/"

# The CLI's bundles: corral spec, adjusted.
"$ship/bin/corral" spec --bundle "$ship"
bundle() { # NAME CGROUPSPATH ARGS-JSON [JQ-FILTER]
	mkdir -p "$ship/$1"
	jq --arg cg "$2" --argjson args "$3" '
		.root = {"path": "/ship/rootfs", "readonly": true}
		| .process.terminal = false | .process.args = $args
		| .linux.cgroupsPath = $cg
		| .linux.namespaces |= (map(select(.type != "cgroup")) + [{"type": "cgroup"}])
		| .linux.resources.memory = {"limit": 67108864}
		| .linux.resources.pids = {"limit": 60}
		| .annotations = {"org.systemd.property.TimeoutStopSec": "300"}'"${4:-}" \
		"$ship/config.json" > "$ship/$1/config.json"
}
bundle life "system.slice:corral-cli:life" '["sleep", "600"]'
bundle hog "system.slice:corral-cli:hog" \
	'["sh", "-c", "sleep 3; (echo 1000 > /proc/self/oom_score_adj; exec sh -c '"'"'x=a; while :; do x=$x$x; done'"'"'); echo status=$?; sleep 600"]' \
	' | .linux.resources.memory = {"limit": 16777216}'
bundle badslice "corral-no-such.slice:corral-cli:bad" '["true"]'
bundle badpath "/corral/bad" '["true"]'
rm "$ship/config.json"
# The rootless bundle: uid and gid 1000 (systemd-rootless.sh's user) are
# root in the container.
"$ship/bin/corral" spec --rootless --bundle "$ship"
mkdir "$ship/rootless"
jq '.root = {"path": "/ship/rootfs", "readonly": true}
	| .process.terminal = false | .process.args = ["sleep", "600"]
	| .linux.uidMappings = [{"containerID": 0, "hostID": 1000, "size": 1}]
	| .linux.gidMappings = [{"containerID": 0, "hostID": 1000, "size": 1}]
	| .linux.resources.memory = {"limit": 67108864}' \
	"$ship/config.json" > "$ship/rootless/config.json"
rm "$ship/config.json"

# Each test binary in turn, so that one's failure does not hide the
# others'; the status is the worst.
cat > "$ship/lane.sh" <<'EOS'
rc=0
echo "== lib.test, systemd driver"
CORRAL_TEST_SYSTEMD_CGROUP=1 lib.test -test.v -test.count=1 -test.timeout=300s -test.run "$LIB_RUN" || rc=1
echo "== CLI lifecycle, systemd driver"
sh systemd-cli.sh || rc=1
echo "== rootless, the user's systemd"
sh systemd-rootless.sh || rc=1
echo "== containerd CRI, SystemdCgroup = true"
engines.test -test.v -test.count=1 -test.timeout=300s -test.run '^TestCRI$' || rc=1
exit $rc
EOS
rc=0
out=$ship.out
trap 'rm -rf "$ship" "$out"' EXIT
"$vm" --systemd --packages "$packages" --mask containerd.service --timeout 600 --mem 2G \
	-e CORRAL_TEST_ROOTFS=/ship/rootfs -e CORRAL_TEST_BINARY=/ship/bin/corral -e LIB_RUN="$run" \
	"$ship" sh lane.sh | tee "$out" || rc=${PIPESTATUS[0]}
if [ "$rc" = 125 ] && ! grep -q '^== lib.test' "$out"; then
	# The runner's status for a guest that died before running
	# anything (its console tail is above).
	skip "the systemd guest did not boot on this machine (run-in-vm.sh exit 125)"
fi

echo
echo "== examples/systemd-runc.sh with corral"
"$examples/systemd-runc.sh" "$ship/bin/corral" || rc=$?
exit "$rc"
