#!/usr/bin/env bash
# Runs the AppArmor tests in the VM of ../shared/vm, whose Debian kernel
# enables AppArmor (this host's kernel does not): a profile loaded with
# apparmor_parser confines init and exec'd processes, with and without a
# user namespace.
#
#   tests/vm/apparmor.sh [-test.run REGEXP]
set -euo pipefail
cd "$(dirname "$0")/../.."

. tests/vm/lib.sh
need_vm "AppArmor"
parser=$(command -v apparmor_parser || true)
if [ -z "$parser" ]; then
	echo "skipping the AppArmor lane: apparmor_parser is not installed (Debian package apparmor)"
	exit 0
fi

lane_run 'AppArmor|LSM' "$@"
new_ship
go test -c -o "$ship/bin/cli.test" ./tests/integration/cli
./build.sh "$ship/bin/corral"
cp -a tests/rootfs/busybox "$ship/rootfs"
"$vm" --timeout 600 --mem 2G --bin "$parser" \
	-e CORRAL_TEST_ROOTFS=/ship/rootfs -e CORRAL_TEST_BINARY=/ship/bin/corral \
	"$ship" sh -c '
		mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
		exec cli.test -test.v -test.count=1 -test.timeout=500s -test.run "$0"' "$run"
