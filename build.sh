#!/bin/sh
# Builds bin/corral, statically linked and stripped where the C libraries
# allow: a container start runs the binary twice, and a static binary skips
# the dynamic loader each time.
#
# With musl (Debian's musl-tools) it links against musl rather than glibc.
# glibc's start in a static binary asks the CPU for its features and cache
# sizes with some fifty cpuid instructions, and in a virtual machine each
# one traps to the hypervisor, on every start of the binary, and a
# container start runs the binary twice (the runtime and its re-executed
# init). musl asks nothing. The musl build links a libseccomp compiled for
# musl from Debian's own source package (the version of libseccomp-dev, with
# Debian's patches), built once into .cache/ and reused: Debian's
# libseccomp.a is compiled against glibc's headers and fortified for it.
#
# The same inputs give the same binary on every run, and runs in parallel
# are safe: every path the build sees is stable (no temporary directory ends
# up in Go's build cache), and the libseccomp build is made under a lock and
# renamed into place whole.
#
#   ./build.sh [OUTPUT]            # default bin/corral
#   CORRAL_LIBC=glibc ./build.sh   # never musl
#   CORRAL_BUILD_TAGS=corral_testhooks ./build.sh   # extra build tags
#   CORRAL_CACHE=DIR ./build.sh    # where libseccomp for musl is kept (.cache)
set -eu
cd "$(dirname "$0")"
top=$PWD
out=${1:-bin/corral}
mkdir -p "$(dirname "$out")"
tags=osusergo,netgo${CORRAL_BUILD_TAGS:+,$CORRAL_BUILD_TAGS}
seccomp_a=$(gcc -print-file-name=libseccomp.a 2>/dev/null || true)

# musl_seccomp prints the prefix of a libseccomp built for musl, building it
# first if needed; it fails when it cannot (no network for the source, no
# gperf), and the caller falls back to glibc.
musl_seccomp() {
	version=$(dpkg-query -W -f='${Version}' libseccomp-dev 2>/dev/null) || return 1
	cache=${CORRAL_CACHE:-$top/.cache}
	prefix=$cache/libseccomp-musl-$version
	if ! [ -e "$prefix/lib/libseccomp.a" ]; then
		mkdir -p "$cache"
		(
			flock 9
			[ -e "$prefix/lib/libseccomp.a" ] || "$top/tools/libseccomp-musl.sh" "$version" "$prefix" >&2
		) 9>"$cache/libseccomp-musl.lock" || return 1
	fi
	echo "$prefix"
}

if [ "${CORRAL_LIBC:-}" != glibc ] && command -v musl-gcc >/dev/null && prefix=$(musl_seccomp); then
	# Only the prefix's pkg-config file: the system's would put glibc's
	# library directory, and with it glibc's libc.a, on the link line.
	# musl's headers first, then the kernel's from the system.
	# Threads get glibc's 8 MiB stacks, not musl's 128 KiB: cgo runs C
	# (libseccomp's compiler among it) on them.
	CC=musl-gcc \
		CGO_CFLAGS="-O2 -idirafter /usr/include -idirafter /usr/include/$(gcc -dumpmachine)" \
		PKG_CONFIG_PATH="$prefix/lib/pkgconfig" PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig" \
		go build -trimpath -tags "$tags,musl" -ldflags '-s -w -linkmode external -extldflags "-static -Wl,-z,stack-size=8388608"' -o "$out" ./cmd/corral
elif [ -e "$seccomp_a" ] && [ -e "$(gcc -print-file-name=libc.a 2>/dev/null)" ]; then
	[ "${CORRAL_LIBC:-}" = glibc ] || echo "build.sh: no musl build of libseccomp (see above): linking against glibc" >&2
	go build -trimpath -tags "$tags" -ldflags '-s -w -extldflags "-static"' -o "$out" ./cmd/corral
else
	go build -trimpath -tags "$tags" -ldflags '-s -w' -o "$out" ./cmd/corral
fi
