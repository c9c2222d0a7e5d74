# Sourced by the VM lanes (tests/vm/*.sh) from the repository's root.

# need_vm LANE sets vm to the runner of ../shared/vm (or $CORRAL_VM), or
# says why LANE cannot run on this machine and exits 0: a lane is skipped,
# with its reason, only for what the machine lacks.
need_vm() {
	vm=${CORRAL_VM:-}
	for candidate in "$PWD/../shared/vm/run-in-vm.sh" /work/shared/vm/run-in-vm.sh; do
		[ -n "$vm" ] || ! [ -x "$candidate" ] || vm=$candidate
	done
	if ! [ -x "$vm" ]; then
		echo "skipping the $1 lane: no VM runner at $vm (set CORRAL_VM)"
		exit 0
	fi
	if ! command -v qemu-system-x86_64 >/dev/null; then
		echo "skipping the $1 lane: qemu-system-x86 is not installed"
		exit 0
	fi
}

# lane_run DEFAULT [-test.run REGEXP] sets run to the tests a lane runs:
# REGEXP if given, else DEFAULT.
lane_run() {
	run=$1
	if [ "${2:-}" = "-test.run" ]; then
		run=$3
	fi
}

# new_ship makes ship, the directory copied into the VM (removed on
# exit), with the busybox rootfs built and bin/ made. It is readable by
# every user: containers with a user namespace reach their rootfs there.
new_ship() {
	ship=$(mktemp -d)
	trap 'rm -rf "$ship"' EXIT
	chmod 755 "$ship"
	tests/rootfs/build.sh
	mkdir -p "$ship/bin"
}
