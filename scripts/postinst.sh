#!/bin/sh
# What a Debian package's postinst does for ringlog, run by `make install`
# as root (without DESTDIR), or by hand against an image:
#   the ringlog user (sysusers.d), /var/spool/ringlog and /var/lib/ringlog
#   (tmpfiles.d), /etc/ringlog/ringlog.conf readable by the ringlog group,
#   a signing key for play URLs and a privacy key when there are none.
#   Idempotent.
#
#   scripts/postinst.sh [--root DIR]
# The Makefile passes where it installed things: SYSCONFDIR, SYSUSERSDIR,
# TMPFILESDIR (defaults: Debian's /etc, /usr/lib/sysusers.d, /usr/lib/tmpfiles.d).
set -eu

root=
if [ "${1:-}" = --root ]; then
	root=${2:?--root needs a directory}
fi
etc=$root${SYSCONFDIR:-/etc}/ringlog
sysusers=$root${SYSUSERSDIR:-/usr/lib/sysusers.d}/ringlog.conf
tmpfiles=$root${TMPFILESDIR:-/usr/lib/tmpfiles.d}/ringlog.conf

systemd-sysusers ${root:+--root="$root"} "$sysusers"
systemd-tmpfiles --create ${root:+--root="$root"} "$tmpfiles"
gid=$(awk -F: '$1 == "ringlog" { print $3 }' "$root/etc/group")

install -d -m 755 "$etc"
if [ -f "$etc/ringlog.conf" ]; then
	chgrp "$gid" "$etc/ringlog.conf"
	chmod 640 "$etc/ringlog.conf"
fi
# A key of 32 random bytes, readable by the ringlog group, unless there is one.
make_key() {
	[ -s "$etc/$1" ] && return 0
	(umask 077 && head -c 32 /dev/urandom | base64 >"$etc/$1.new")
	chgrp "$gid" "$etc/$1.new"
	chmod 640 "$etc/$1.new"
	mv "$etc/$1.new" "$etc/$1"
	echo "postinst: made $2 in $etc/$1"
}
make_key signing.key "a signing key for play URLs"
make_key privacy.key "the privacy key (hashes of erased calls and numbers)"
if [ -z "$root" ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload
fi
