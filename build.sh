#!/bin/sh
# Builds bin/corral. Statically linked and stripped where Debian's
# libseccomp-dev provides the static library: a container start runs the
# binary twice, and a static binary skips the dynamic loader each time.
#
#   ./build.sh [OUTPUT]      # default bin/corral
set -eu
cd "$(dirname "$0")"
out=${1:-bin/corral}
mkdir -p "$(dirname "$out")"
if [ -e "$(gcc -print-file-name=libseccomp.a 2>/dev/null)" ] && [ -e "$(gcc -print-file-name=libc.a 2>/dev/null)" ]; then
	go build -trimpath -tags osusergo,netgo -ldflags '-s -w -extldflags "-static"' -o "$out" ./cmd/corral
else
	go build -trimpath -ldflags '-s -w' -o "$out" ./cmd/corral
fi
