#!/usr/bin/env bash
# Installs what the test suite needs on a Debian 12 machine, and says what it
# installs: the Debian packages, criu 4 (../shared/criu/install.sh), and the
# Go tools (staticcheck, crictl). Idempotent: what is there already is kept,
# so a second run installs nothing. Needs root for the packages.
#
#   tests/setup.sh          # called by tests/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# What the suites run, and why each is here:
#   busybox-static                 the root filesystem of every test container
#   libseccomp-dev gcc libc6-dev   corral's cgo (seccomp) and static link
#   musl-tools pkg-config          the musl build of build.sh
#   git ca-certificates            go's module downloads
#   iproute2 uidmap                network namespaces (also the CRI suite's CNI
#                                  plugin); newuidmap for rootless
#   jq runc crun                   the drop-in corpus compares against runc
#   containerd podman docker.io    the engine suites drive corral through them
#                                  (crictl, below, drives the CRI plugin)
#   qemu-system-x86 xz-utils       the cgroup v2 lane in ../shared/vm
#   criu                           the criu lane: run-in-vm.sh --criu ships it
#   mmdebstrap e2fsprogs kmod      the systemd guest of ../shared/vm
#   dpkg-dev gperf make            libseccomp built for musl (build.sh)
#   apparmor                       apparmor_parser, for the AppArmor lane's VM
packages=(
	busybox-static libseccomp-dev gcc libc6-dev musl-tools pkg-config
	git ca-certificates iproute2 uidmap jq runc crun containerd podman
	docker.io qemu-system-x86 xz-utils criu mmdebstrap e2fsprogs kmod dpkg-dev gperf make apparmor
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup: missing Debian packages ${missing[*]}; run as root to install them" >&2
		exit 1
	fi
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# The engines' packages start system daemons on install; the tests run
	# their own, on private paths, and a system one would only be in the
	# way (dockerd 20.10 takes /run/containerd/containerd.sock when it
	# exists). A policy-rc.d that refuses keeps them stopped.
	policy=/usr/sbin/policy-rc.d
	own_policy=""
	if ! [ -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		own_policy=1
	fi
	trap '[ -z "$own_policy" ] || rm -f "$policy"' EXIT
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# criu 4: Debian 12's 3.17 cannot run on newer kernels.
criu_install=""
for c in "$PWD/../shared/criu/install.sh" /work/shared/criu/install.sh; do
	[ -n "$criu_install" ] || ! [ -x "$c" ] || criu_install=$c
done
criu_bin=${CRIU_PREFIX:-/opt/criu-trixie}/bin/criu
if ! { [ -x "$criu_bin" ] && "$criu_bin" --version >/dev/null 2>&1; }; then
	if [ -n "$criu_install" ]; then
		echo "setup: installing criu 4 with $criu_install"
		"$criu_install"
	else
		echo "setup: no ../shared/criu/install.sh here: the criu suite will say it has no criu"
	fi
fi

gobin=$(go env GOPATH)/bin
goinstall() { # name module@version
	if ! [ -x "$gobin/$1" ]; then
		echo "setup: installing $2"
		GOBIN=$gobin go install "$2"
	fi
}
goinstall staticcheck honnef.co/go/tools/cmd/staticcheck@v0.8.2
goinstall crictl sigs.k8s.io/cri-tools/cmd/crictl@v1.34.0
