#!/bin/sh
# What a Debian package's postinst does for ringlog, run by `make install`
# as root (without DESTDIR), or by hand against an image:
#   the ringlog user (sysusers.d), /var/spool/ringlog and /var/lib/ringlog
#   (tmpfiles.d), /etc/ringlog/ringlog.conf readable by the ringlog group,
#   and a signing key for play URLs when there is none. Idempotent.
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
if [ ! -s "$etc/signing.key" ]; then
	(umask 077 && head -c 32 /dev/urandom | base64 >"$etc/signing.key.new")
	chgrp "$gid" "$etc/signing.key.new"
	chmod 640 "$etc/signing.key.new"
	mv "$etc/signing.key.new" "$etc/signing.key"
	echo "postinst: made a signing key for play URLs in $etc/signing.key"
fi
if [ -z "$root" ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload
fi
