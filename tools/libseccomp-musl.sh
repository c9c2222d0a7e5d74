#!/bin/sh
# Builds libseccomp for musl from Debian's source package: the same version
# as the installed libseccomp-dev, with Debian's patches (its syscall
# tables among them). Called by build.sh, under its lock; builds in a
# temporary directory and renames the result into place, so that a build
# that fails or is killed leaves nothing a later build would trust.
#
#   tools/libseccomp-musl.sh VERSION PREFIX
#
# Needs the Debian archive (apt-get source through a private source list,
# so the machine's apt configuration is not touched), dpkg-dev, gperf and
# musl-tools.
set -eu
version=$1
prefix=$2
for tool in dpkg-source gperf musl-gcc make; do
	command -v "$tool" >/dev/null || { echo "libseccomp-musl: $tool is missing (apt-get install dpkg-dev gperf musl-tools make)" >&2; exit 1; }
done
work=$(mktemp -d "$prefix.tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
# deb-src lines for the archives apt already uses for binaries.
apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Created-By: Packages' 2>/dev/null |
	sort -u | while read -r uri suite; do
		echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main"
	done >"$work/sources.list"
if ! [ -s "$work/sources.list" ]; then
	echo "libseccomp-musl: apt has no Debian archive configured (apt-get update first)" >&2
	exit 1
fi
opts="-o APT::Sandbox::User=root -o Dir::Etc::SourceList=$work/sources.list -o Dir::Etc::SourceParts=/dev/null
      -o Dir::State::Lists=$work/lists -o Dir::Cache=$work/cache"
echo "libseccomp-musl: building libseccomp $version for musl into $prefix"
# shellcheck disable=SC2086
apt-get -qq $opts update
# shellcheck disable=SC2086
(cd "$work" && apt-get -qq $opts source --download-only "libseccomp=$version" >/dev/null)
# apt-get checked the files against the archive's signed Sources index.
dpkg-source --no-check -x "$work"/libseccomp_*.dsc "$work/src" >/dev/null
cd "$work/src"
CC=musl-gcc CFLAGS="-O2 -idirafter /usr/include -idirafter /usr/include/$(gcc -dumpmachine)" \
	./configure --quiet --enable-static --disable-shared --prefix="$prefix" >"$work/configure.log" 2>&1 ||
	{ tail -20 "$work/configure.log" >&2; exit 1; }
make -s -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -20 "$work/make.log" >&2; exit 1; }
make -s install DESTDIR="$work/dest" >>"$work/make.log" 2>&1 || { tail -20 "$work/make.log" >&2; exit 1; }
rm -rf "$prefix"
mv "$work/dest$prefix" "$prefix"
