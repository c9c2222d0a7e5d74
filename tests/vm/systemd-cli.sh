#!/bin/sh
# Runs inside the --systemd VM (see systemd.sh): the CLI lifecycle of a
# container with the systemd cgroup driver, from bundles systemd.sh made.
# Exit 0 iff every check passes.
C="corral --systemd-cgroup"
pass=0; fail=0
check() { # DESCRIPTION COMMAND...: PASS iff COMMAND succeeds
	d=$1; shift
	if "$@"; then echo "PASS: $d"; pass=$((pass + 1)); else echo "FAIL: $d"; fail=$((fail + 1)); fi
}
status() { $C state "$1" 2>/dev/null | sed -n 's/.*"status": "\([a-z]*\)".*/\1/p'; }
wait_status() { # ID STATUS: until the container has STATUS (10 s)
	i=0
	while [ $i -lt 100 ] && [ "$(status "$1")" != "$2" ]; do sleep 0.1; i=$((i + 1)); done
	[ "$(status "$1")" = "$2" ]
}
show() { systemctl show -p "$2" --value "$1"; }
unit=corral-cli-life.scope
cg=/sys/fs/cgroup/system.slice/$unit

echo "== create, start, exec"
$C create -b /ship/life life </dev/null; rc=$?
check "create (rc $rc), status created" sh -c "[ $rc = 0 ] && [ \"\$($C state life | grep -c '\"status\": \"created\"')\" = 1 ]"
check "$unit is active" systemctl -q is-active $unit
pid=$($C state life | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')
check "init $pid is in $unit" grep -qx "0::/system.slice/$unit" "/proc/$pid/cgroup"
echo "unit: $(systemctl show -p MemoryMax -p TasksMax -p Delegate -p TimeoutStopUSec $unit | tr '\n' ' ')"
check "MemoryMax, TasksMax, Delegate set" [ "$(show $unit MemoryMax) $(show $unit TasksMax) $(show $unit Delegate)" = "67108864 60 yes" ]
check "annotation org.systemd.property.TimeoutStopSec=300 is TimeoutStopUSec" [ "$(show $unit TimeoutStopUSec)" = 5min ]
$C start life; rc=$?
check "start (rc $rc)" sh -c "[ $rc = 0 ] && [ \"\$($C state life | grep -c '\"status\": \"running\"')\" = 1 ]"
out=$($C exec life sh -c 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; cat /proc/self/cgroup' 2>&1)
echo "exec: $(echo $out)"
check "exec sees the limits in its cgroup namespace" [ "$(echo $out)" = "67108864 60 0::/" ]
check "exec'd process joined the scope (and left)" sh -c "[ \$(wc -l < $cg/cgroup.procs) -ge 1 ]"

echo "== pause, resume"
$C pause life
st=$(status life); ev=$(grep frozen $cg/cgroup.events)
check "pause: status paused ($st), cgroup frozen ($ev)" [ "$st/$ev" = "paused/frozen 1" ]
$C resume life
st=$(status life); ev=$(grep frozen $cg/cgroup.events)
check "resume: status running ($st), cgroup thawed ($ev)" [ "$st/$ev" = "running/frozen 0" ]

echo "== update, stats"
$C update --memory 128M --pids-limit 80 life; rc=$?
echo "after update: memory.max $(cat $cg/memory.max), pids.max $(cat $cg/pids.max); MemoryMax=$(show $unit MemoryMax) TasksMax=$(show $unit TasksMax)"
check "update (rc $rc) sets the cgroup and systemd's properties" \
	[ "$rc $(cat $cg/memory.max) $(cat $cg/pids.max) $(show $unit MemoryMax) $(show $unit TasksMax)" = "0 134217728 80 134217728 80" ]
stats=$($C events --stats life)
echo "stats: $(echo "$stats" | head -c 300)..."
check "events --stats reads the scope's cgroup" sh -c "echo '$stats' | grep -q '\"limit\":134217728' && echo '$stats' | grep -q '\"pids\":{\"current\":[1-9]'"

echo "== kill, delete"
$C kill life KILL
check "kill: status stopped" wait_status life stopped
$C delete life; rc=$?
sleep 0.2
check "delete (rc $rc): no state, no unit, no cgroup" sh -c "[ $rc = 0 ] && ! $C state life 2>/dev/null && [ -z \"\$(systemctl list-units --all --no-legend $unit)\" ] && [ ! -e $cg ]"

echo "== OOM events"
$C run -d -b /ship/hog hog </dev/null >/dev/null 2>&1
# init survives (the killer picks its child, of oom_score_adj 1000) and
# reports; events is watching by then.
$C events hog >/tmp/hog.events 2>&1 &
evpid=$!
i=0
while [ $i -lt 600 ] && ! grep -q oom /tmp/hog.events; do sleep 0.1; i=$((i + 1)); done
kill $evpid
ev=$(head -n 1 /tmp/hog.events)
echo "events: $ev"
check "events reports the OOM kill in the scope" sh -c "echo '$ev' | grep -q '\"type\":\"oom\"'"
$C delete --force hog
check "delete --force: unit gone" sh -c "[ -z \"\$(systemctl list-units --all --no-legend corral-cli-hog.scope)\" ]"

echo "== bad cgroupsPath"
out=$($C create -b /ship/badslice bad 2>&1); rc=$?
echo "$out"
check "a slice that does not exist is refused, naming it" sh -c "[ $rc != 0 ] && echo '$out' | grep -q 'cgroups.parent: \"corral-no-such.slice\" does not exist'"
check "... before anything is made" sh -c "! $C state bad 2>/dev/null && [ -z \"\$(systemctl list-units --all --no-legend 'corral-no-such.slice' 'corral-cli-bad.scope')\" ]"
out=$($C create -b /ship/badpath bad 2>&1); rc=$?
echo "$out"
check "a path that is not slice:prefix:name is refused, naming it" sh -c "[ $rc != 0 ] && echo '$out' | grep -q 'linux.cgroupsPath: \"/corral/bad\" is not \"slice:prefix:name\"' && ! $C state bad 2>/dev/null"

echo "== summary: $pass passed, $fail failed"
[ $fail = 0 ]
