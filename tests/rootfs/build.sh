#!/bin/sh
# Builds the busybox root filesystem the tests and examples run, from
# Debian's busybox-static. Idempotent: an existing, complete rootfs for the
# same busybox is kept.
#
#   tests/rootfs/build.sh            # into tests/rootfs/busybox
#   tests/rootfs/build.sh DIR        # into DIR
set -eu

dest=${1:-$(cd "$(dirname "$0")" && pwd)/busybox}
bb=/bin/busybox
if ! [ -x "$bb" ] || ! "$bb" --list-full >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
	fi
fi
if ! "$bb" --list-full >/dev/null 2>&1; then
	echo "build.sh: $bb is missing: apt-get install busybox-static" >&2
	exit 1
fi
if ldd "$bb" >/dev/null 2>&1; then
	echo "build.sh: $bb is dynamically linked: install busybox-static, not busybox" >&2
	exit 1
fi

stamp="$(sha256sum "$bb" | cut -c1-16)"
if [ -f "$dest/.corral-rootfs" ] && [ "$(cat "$dest/.corral-rootfs")" = "$stamp" ]; then
	exit 0
fi

tmp="$dest.tmp.$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"
for d in bin sbin usr/bin usr/sbin etc proc sys dev tmp root home/user1 var/log run mnt; do
	mkdir -p "$tmp/$d"
done
chmod 1777 "$tmp/tmp"
cp "$bb" "$tmp/bin/busybox"
for applet in $("$bb" --list-full); do
	[ -e "$tmp/$applet" ] || ln -s /bin/busybox "$tmp/$applet"
done

cat >"$tmp/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
user1:x:1000:1000:test user:/home/user1:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$tmp/etc/group" <<'GROUP'
root:x:0:
daemon:x:1:
tty:x:5:
users:x:100:user1
audio:x:29:user1
user1:x:1000:
nogroup:x:65534:
GROUP
echo "corral-test" >"$tmp/etc/hostname"
: >"$tmp/etc/resolv.conf"
: >"$tmp/etc/hosts"
chown 1000:1000 "$tmp/home/user1"
echo "$stamp" >"$tmp/.corral-rootfs"

rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
