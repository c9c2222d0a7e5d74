#!/bin/sh
# Runs inside the --systemd VM (see systemd.sh): corral without root and
# --systemd-cgroup puts the container in a scope of the user's own
# systemd (user@UID.service), through the user's bus, with the limits
# the user's manager was delegated. Exit 0 iff every check passes.
pass=0; fail=0
check() { # DESCRIPTION COMMAND...: PASS iff COMMAND succeeds
	d=$1; shift
	if "$@"; then echo "PASS: $d"; pass=$((pass + 1)); else echo "FAIL: $d"; fail=$((fail + 1)); fi
}
uid=1000
useradd -u $uid -m corral-user || exit 1
# What a login (or linger) does: the user's runtime dir and manager.
systemctl start user@$uid.service || { journalctl -b --no-pager | tail -n 30; exit 1; }
export XDG_RUNTIME_DIR=/run/user/$uid
as_user() { runuser -u corral-user -- env XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR DBUS_SESSION_BUS_ADDRESS=unix:path=$XDG_RUNTIME_DIR/bus "$@"; }
echo "user manager: $(systemctl is-active user@$uid.service); bus: $(ls $XDG_RUNTIME_DIR/bus 2>&1)"
echo "delegated: $(cat /sys/fs/cgroup/user.slice/user-$uid.slice/user@$uid.service/cgroup.controllers)"
mgr=/user.slice/user-$uid.slice/user@$uid.service
unit=corral-rl.scope

C="corral --systemd-cgroup --root /tmp/corral-user"
as_user $C run -d -b /ship/rootless rl </dev/null; rc=$?
check "run -d (rc $rc) as uid $uid" [ $rc = 0 ]
pid=$(as_user $C state rl | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')
cg=$(cut -d: -f3 "/proc/$pid/cgroup" 2>&1)
echo "init $pid: cgroup $cg; memory.max $(cat /sys/fs/cgroup$cg/memory.max 2>&1)"
echo "unit: $(as_user systemctl --user show -p ActiveState -p MemoryMax $unit | tr '\n' ' ')"
check "init is in the user's scope $mgr/user.slice/$unit" [ "$cg" = "$mgr/user.slice/$unit" ]
check "memory.max there is 67108864" [ "$(cat /sys/fs/cgroup$mgr/user.slice/$unit/memory.max 2>&1)" = 67108864 ]
as_user $C kill rl KILL
sleep 0.5
as_user $C delete --force rl; rc=$?
active=$(as_user systemctl --user is-active $unit)
check "delete (rc $rc): the scope is gone ($active)" sh -c "[ $rc = 0 ] && [ '$active' != active ] && [ ! -e /sys/fs/cgroup$mgr/user.slice/$unit ]"

systemctl stop user@$uid.service
echo "== summary: $pass passed, $fail failed"
[ $fail = 0 ]
