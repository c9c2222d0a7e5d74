#!/bin/sh
# Turns the VM's pure cgroup v2 layout into the hybrid one of our hosts
# (and of systemd's "hybrid" mode): a tmpfs on /sys/fs/cgroup, every
# controller in a v1 hierarchy of its own there (cpu and cpuacct
# together, with symlinks), and the cgroup2 hierarchy, without
# controllers, on /sys/fs/cgroup/unified. A controller moves to v1 only
# while no cgroup uses it on v2: run it first thing after boot.
set -eu
cd /sys/fs/cgroup
for c in $(cat cgroup.subtree_control); do
	echo "-$c" >cgroup.subtree_control
done
mount -t tmpfs -o mode=755,nosuid,nodev,noexec tmpfs /sys/fs/cgroup
cd /sys/fs/cgroup
mkdir unified
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 unified
for h in cpuset cpu,cpuacct blkio memory devices freezer net_cls,net_prio perf_event hugetlb pids rdma misc; do
	mkdir "$h"
	if ! mount -t cgroup -o "nosuid,nodev,noexec,$h" cgroup "$h"; then
		echo "hybrid-cgroups: no v1 hierarchy for $h" >&2
		rmdir "$h"
	fi
done
ln -s cpu,cpuacct cpu
ln -s cpu,cpuacct cpuacct
ln -s net_cls,net_prio net_cls
ln -s net_cls,net_prio net_prio
