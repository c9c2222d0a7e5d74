#!/usr/bin/env bash
# Measures corral against runc and crun, interleaved, on this machine (as
# root): installs runc and crun from Debian if missing, builds corral and
# two busybox bundles, one with the config of `corral spec` and one with
# that of `runc spec` (Debian's runc: no cgroup namespace on a v1 or
# hybrid host, so the runtime mounts the hierarchies itself), runs
# bench/cmd/bench on each in turn, and writes the tables and corral's
# ratios per bundle side by side to bench/out/results.txt, the figures to
# bench/out/results-corral-spec.json and bench/out/results-runc-spec.json.
#
#   bench/run.sh                  # 40 iterations per runtime, 10 throughput batches
#   bench/run.sh -n 30 -batches 5 # flags go to bench/cmd/bench (see -h)
#   bench/run.sh -go ...          # also the Go benchmarks of the library
#
# crun 1.8 refuses this host's hybrid cgroup layout, so it runs through
# ../shared/tools/crun-hybrid (or $CRUN_HYBRID); without it crun runs
# directly and, here, is left out with a note.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

gobench=""
args=()
for a in "$@"; do
	case "$a" in
	-go | --go) gobench=1 ;;
	*) args+=("$a") ;;
	esac
done

if [ "$(id -u)" != 0 ]; then
	echo "bench/run.sh: run as root: it creates containers and cgroups" >&2
	exit 1
fi

step() { printf '== %s\n' "$*" >&2; }

missing=()
command -v runc >/dev/null || missing+=(runc)
command -v crun >/dev/null || missing+=(crun)
# build.sh links corral against musl when it can (see there).
command -v musl-gcc >/dev/null || missing+=(musl-tools)
if [ ${#missing[@]} -gt 0 ]; then
	step "install ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >/dev/null
fi

wrapper=${CRUN_HYBRID:-$repo/../shared/tools/crun-hybrid}
[ -x "$wrapper" ] || [ -n "${CRUN_HYBRID:-}" ] || wrapper=/work/shared/tools/crun-hybrid
if [ -x "$wrapper" ]; then
	wrapper=$(readlink -f "$wrapper")
else
	echo "bench/run.sh: no crun-hybrid at $wrapper: running crun directly" >&2
	wrapper=""
fi

out=$repo/bench/out
mkdir -p "$out"
step "build corral and the benchmark"
./build.sh "$out/corral"
go build -o "$out/bench" ./bench/cmd/bench

step "build the bundles: corral spec's and runc spec's"
bundle=$out/bundle
tests/rootfs/build.sh "$bundle/rootfs"
rm -f "$bundle/config.json"
"$out/corral" spec --bundle "$bundle" # bench rewrites it: /bin/true, no terminal
runc_bundle=$out/bundle-runc-spec
rm -rf "$runc_bundle"
mkdir -p "$runc_bundle"
cp -a "$bundle/rootfs" "$runc_bundle/rootfs"
runc spec --bundle "$runc_bundle"

work=$(mktemp -d /tmp/corral-bench.XXXXXX)
prefix="cbench$$-"

# The benchmark cleans up after itself, even on SIGINT; this is for when
# it could not (killed, crashed): no container or cgroup of the run may
# survive it.
cleanup() {
	local root id rt
	for root in "$work"/root-*; do
		[ -d "$root" ] || continue
		case "${root##*/root-}" in
		corral) rt=("$out/corral") ;;
		runc) rt=(runc) ;;
		crun) if [ -n "$wrapper" ]; then rt=(env CRUN="$(command -v crun)" "$wrapper"); else rt=(crun); fi ;;
		*) continue ;;
		esac
		for id in "$root"/*/; do
			[ -d "$id" ] || continue
			id=${id%/}
			"${rt[@]}" --root "$root" delete --force "${id##*/}" >/dev/null 2>&1 || true
		done
	done
	local left
	left=$(find /sys/fs/cgroup -depth -type d -path "*/$prefix*" 2>/dev/null || true)
	if [ -n "$left" ]; then
		echo "bench/run.sh: removing cgroups left behind:" >&2
		echo "$left" >&2
		echo "$left" | while read -r d; do rmdir "$d" 2>/dev/null || true; done
	fi
	rm -rf "$work"
}
trap cleanup EXIT

extra=()
if [ -n "$gobench" ]; then
	step "Go benchmarks"
	# Every package that has a benchmark, so that new ones are picked up.
	mapfile -t pkgs < <(grep -rl --include='*_test.go' '^func Benchmark' cmd libcontainer bench |
		xargs -n1 dirname | sort -u | sed 's|^|./|')
	go test -run '^$' -bench . -benchtime 200x -benchmem "${pkgs[@]}" | tee "$out/gobench.txt"
	extra+=(-gobench "$out/gobench.txt")
fi

: >"$out/results.txt"
jsons=()
for spec in corral runc; do
	b=$bundle
	[ "$spec" = runc ] && b=$runc_bundle
	step "measure corral, runc and crun (interleaved) with $spec spec's bundle"
	"$out/bench" -bundle "$b" -label "$spec spec" -work "$work" -id-prefix "$prefix" \
		-corral "$out/corral" -runc "$(command -v runc)" -crun "$(command -v crun)" \
		-crun-wrapper "$wrapper" -out "$out/results-$spec-spec.json" \
		"${extra[@]}" "${args[@]}" | tee -a "$out/results.txt"
	jsons+=("$out/results-$spec-spec.json")
	extra=() # the Go benchmarks are reported once
done
"$out/bench" -compare "${jsons[@]}" | tee -a "$out/results.txt"
