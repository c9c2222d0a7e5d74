#!/bin/sh
# Runs a real container from the bundled example: builds the busybox root
# filesystem from Debian's busybox-static and the README's libcontainer
# sample, and runs it. Run as root on Debian.
set -eu
cd "$(dirname "$0")/.."
if ! [ -x /bin/busybox ] || ! command -v gcc >/dev/null || ! [ -e /usr/include/seccomp.h ]; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static libseccomp-dev gcc libc6-dev >/dev/null
fi
tests/rootfs/build.sh
mkdir -p bin
go build -o bin/readme ./examples/readme
exec bin/readme "$PWD/tests/rootfs/busybox"
