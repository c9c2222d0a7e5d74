#!/usr/bin/env bash
# Runs the netDevices tests in the VM of ../shared/vm with a virtio NIC of
# its own, which TestNetDevicesPhysical moves into a container: a physical
# device, which the kernel returns to the host when the container's
# network namespace is freed (a veth, on the host, is destroyed instead).
#
#   tests/vm/netdev.sh [-test.run REGEXP]
set -euo pipefail
cd "$(dirname "$0")/../.."

. tests/vm/lib.sh
need_vm "netDevices"

lane_run TestNetDevices "$@"
new_ship
go test -c -o "$ship/bin/cli.test" ./tests/integration/cli
./build.sh "$ship/bin/corral"
cp -a tests/rootfs/busybox "$ship/rootfs"
# iproute2's ip, ahead of busybox's in PATH: the tests make network
# namespaces with "ip netns".
cp "$(command -v ip)" "$ship/bin/ip"
# The virtio NIC is eth0, the VM's only one: nothing else uses it.
"$vm" --timeout 600 --mem 2G \
	--modules "failover net_failover virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_net" \
	--qemu-args "-netdev user,id=n1 -device virtio-net-pci,netdev=n1" \
	-e CORRAL_TEST_ROOTFS=/ship/rootfs -e CORRAL_TEST_BINARY=/ship/bin/corral -e CORRAL_TEST_SPARE_NIC=eth0 \
	"$ship" sh -c '
		# The first "ip netns add" of a fresh system mounts /run/netns,
		# which a test would take for a mount it leaked: make it first.
		/ship/bin/ip netns add corral-lane && /ship/bin/ip netns del corral-lane &&
		exec cli.test -test.v -test.count=1 -test.timeout=500s -test.run "$0"' "$run"
