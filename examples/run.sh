#!/bin/sh
# Runs a real container from the bundled example (examples/busybox): builds
# corral and the busybox root filesystem from Debian's busybox-static, then
# `corral run`s the bundle. Run as root on Debian.
set -eu
cd "$(dirname "$0")/.."
if ! [ -x /bin/busybox ] || ! command -v gcc >/dev/null || ! command -v musl-gcc >/dev/null || ! command -v gperf >/dev/null || ! command -v dpkg-source >/dev/null || ! [ -e /usr/include/seccomp.h ]; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static libseccomp-dev gcc libc6-dev musl-tools dpkg-dev gperf make >/dev/null
fi
tests/rootfs/build.sh examples/busybox/rootfs
mkdir -p bin
./build.sh bin/corral
exec bin/corral --root /run/corral-example run --bundle examples/busybox "demo-$$"
