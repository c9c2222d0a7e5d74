#!/bin/sh
# Builds bin/corral, statically linked and stripped where the C libraries
# allow: a container start runs the binary twice, and a static binary skips
# the dynamic loader each time.
#
# With musl (Debian's musl-tools) it links against musl rather than glibc.
# glibc's start in a static binary asks the CPU for its features and cache
# sizes with some fifty cpuid instructions, and in a virtual machine each
# one traps to the hypervisor: about a millisecond per start here, twice
# per container (the runtime and its re-executed init). musl asks nothing.
# Debian's libseccomp.a is built for glibc but needs only one glibc-only
# symbol, __fprintf_chk, which libcontainer/seccomp provides under the
# build tag musl.
#
#   ./build.sh [OUTPUT]      # default bin/corral
#   CORRAL_LIBC=glibc ./build.sh   # never musl
set -eu
cd "$(dirname "$0")"
out=${1:-bin/corral}
mkdir -p "$(dirname "$out")"
tags=osusergo,netgo
seccomp_a=$(gcc -print-file-name=libseccomp.a 2>/dev/null || true)
if [ "${CORRAL_LIBC:-}" != glibc ] && command -v musl-gcc >/dev/null && [ -e "$seccomp_a" ]; then
	# A private pkg-config directory whose libseccomp is the static
	# library alone: the system's .pc would put glibc's directory on the
	# link line, and with it glibc's libc.a.
	pc=$(mktemp -d)
	trap 'rm -rf "$pc"' EXIT
	ln -s "$seccomp_a" "$pc/libseccomp.a"
	printf 'Name: libseccomp\nDescription: libseccomp, static\nVersion: 2\nCflags:\nLibs: -L%s -lseccomp\n' "$pc" >"$pc/libseccomp.pc"
	# musl's headers first; the kernel's and seccomp.h from the system.
	# Threads get glibc's 8 MiB stacks, not musl's 128 KiB: cgo runs C
	# (libseccomp's compiler among it) on them.
	CC=musl-gcc \
		CGO_CFLAGS="-O2 -idirafter /usr/include -idirafter /usr/include/$(gcc -dumpmachine)" \
		PKG_CONFIG_PATH="$pc" PKG_CONFIG_LIBDIR="$pc" \
		go build -trimpath -tags "$tags,musl" -ldflags '-s -w -linkmode external -extldflags "-static -Wl,-z,stack-size=8388608"' -o "$out" ./cmd/corral
elif [ -e "$seccomp_a" ] && [ -e "$(gcc -print-file-name=libc.a 2>/dev/null)" ]; then
	go build -trimpath -tags "$tags" -ldflags '-s -w -extldflags "-static"' -o "$out" ./cmd/corral
else
	go build -trimpath -ldflags '-s -w' -o "$out" ./cmd/corral
fi
