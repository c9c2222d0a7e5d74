#!/usr/bin/env bash
# Runs the whole test suite: static checks, unit tests, and the integration
# tests that run real containers (as root), on this kernel and, for what
# needs cgroup v2, in the VM of ../shared/vm when it is available. Installs
# what is missing first (tests/setup.sh), so it works on a fresh machine.
#
#   tests/run.sh              # everything
#   tests/run.sh -short       # skip the slow lanes (churn, VM)
set -euo pipefail
cd "$(dirname "$0")/.."

short=""
[ "${1:-}" = "-short" ] && short="-short"

step() { printf '\n== %s\n' "$*"; }

step "install what the tests need"
tests/setup.sh
export PATH=$PATH:$(go env GOPATH)/bin

step "build the busybox root filesystem"
tests/rootfs/build.sh

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "not gofmt'ed: $unformatted" >&2
	exit 1
fi

step "go vet"
go vet ./...

step "staticcheck"
staticcheck ./...

step "unit and integration tests"
go test $short -count=1 -timeout 20m ./...

# reflectjson must match encoding/json, or refuse, in a build where
# encoding/json is encoding/json/v2 underneath too.
step "reflectjson and its callers on encoding/json v2"
GOEXPERIMENT=jsonv2 go test $short -count=1 ./internal/reflectjson/ ./libcontainer/ \
	./libcontainer/internal/posenc/ ./cmd/corral/

step "unit tests with encoding/json alone (-tags corral_stdjson)"
go test $short -count=1 -tags corral_stdjson ./internal/... ./libcontainer/ \
	./libcontainer/specconv/ ./libcontainer/internal/posenc/ ./cmd/corral/

if [ -z "$short" ]; then
	step "cgroup v2 lane (VM)"
	tests/vm/cgroup2.sh
	step "criu lane (VM)"
	tests/vm/criu.sh
	step "AppArmor lane (VM: its kernel enables AppArmor)"
	tests/vm/apparmor.sh
	step "netDevices lane (VM with a NIC of its own)"
	tests/vm/netdev.sh
	step "systemd lane (VM with systemd: the systemd cgroup driver, CRI with SystemdCgroup)"
	tests/vm/systemd.sh
fi
