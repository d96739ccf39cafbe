#!/bin/sh
# A private PostgreSQL cluster under a directory of the project: loopback and
# a unix socket only, trust auth for the local user "ringlog" (it is reachable
# only from this machine, through a socket in DIR). As root the server runs as
# the `postgres` user, since initdb refuses root.
#
#   scripts/pg.sh start DIR [PORT]   init if needed, start, create database ringlog
#   scripts/pg.sh stop DIR           fast shutdown
#   scripts/pg.sh crash DIR          immediate shutdown (as a crash: recovery at start)
#   scripts/pg.sh url DIR            print the libpq connection string
#   scripts/pg.sh psql DIR [ARGS]    psql into the database
set -eu

cmd=${1:?usage: pg.sh start|stop|crash|url|psql DIR [PORT]}
dir=${2:?usage: pg.sh start|stop|crash|url|psql DIR [PORT]}
bindir=$(pg_config --bindir 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data=$dir/data

as_owner() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The port recorded at init, so url/psql/stop find the running server.
port() { cat "$dir/port"; }

url() { echo "host=$dir port=$(port) user=ringlog dbname=ringlog"; }

# A clone in root's home (0700): the server runs as postgres and must pass
# through the directories above DIR. Each one it cannot search gets an ACL
# entry for the postgres user alone, search only (x: no listing, no reading;
# nobody else gains anything), rather than moving the cluster out of the
# clone, where `make run` keeps its data and test runs remove theirs.
grant_passage() {
	d=$(dirname "$1")
	while :; do
		if ! runuser -u postgres -- test -x "$d"; then
			setfacl -m u:postgres:x "$d" &&
				echo "pg.sh: allowed the postgres user through $d (ACL u:postgres:x)" >&2
		fi
		[ "$d" = / ] && break
		d=$(dirname "$d")
	done
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case $cmd in
start)
	if [ ! -f "$data/PG_VERSION" ]; then
		if [ "$(id -u)" = 0 ]; then
			chown postgres: "$dir"
			runuser -u postgres -- test -w "$dir" || grant_passage "$dir"
			if ! runuser -u postgres -- test -w "$dir"; then
				echo "pg.sh: the postgres user cannot reach $dir (a parent directory is not" >&2
				echo "       searchable by it, and setfacl could not allow it)." >&2
				exit 1
			fi
		fi
		echo "${3:-$(free_port)}" >"$dir/port"
		as_owner "$bindir/initdb" -D "$data" -U ringlog --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
			{ cat "$dir/initdb.log" >&2; exit 1; }
	fi
	[ -n "${3:-}" ] && echo "$3" >"$dir/port"
	if ! as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start \
			-o "-p $(port) -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" >/dev/null ||
			{ tail -20 "$dir/server.log" >&2; exit 1; }
	fi
	"$bindir/psql" -h "$dir" -p "$(port)" -U ringlog -d postgres -Atq \
		-c "SELECT 1 FROM pg_database WHERE datname = 'ringlog'" | grep -q 1 ||
		"$bindir/createdb" -h "$dir" -p "$(port)" -U ringlog ringlog
	;;
stop)
	[ -f "$data/PG_VERSION" ] || exit 0
	as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
	;;
crash)
	[ -f "$data/PG_VERSION" ] || exit 0
	as_owner "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
	;;
url)
	url
	;;
psql)
	shift 2
	exec "$bindir/psql" -h "$dir" -p "$(port)" -U ringlog -d ringlog "$@"
	;;
*)
	echo "pg.sh: unknown command $cmd" >&2
	exit 2
	;;
esac
