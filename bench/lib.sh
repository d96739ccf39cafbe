# Shared by the benchmark sections (sourced). Everything runs side by side
# in one run on one machine, and is reported as ratios: absolute figures on
# a shared 2-core machine are noise.

BENCH_DURATION=${BENCH_DURATION:-10}
PEER_DIR=${RINGLOG_PEER_DIR:-$ROOT/../shared/peers/node-webhook}

say() { printf '%s\n' "$*" | tee -a "$BENCH_OUT"; }

# wrk_run NAME CONNECTIONS SCRIPT URL -> sets RPS P50 P99 NON2XX from WRK_RESULT
wrk_run() {
	_out=$(wrk -t2 -c"$2" -d"${BENCH_DURATION}s" --latency -s "$3" "$4" 2>&1)
	_line=$(printf '%s\n' "$_out" | grep '^WRK_RESULT' | tail -1)
	if [ -z "$_line" ]; then
		printf '%s\n' "$_out" >&2
		RPS=0 P50=0 P99=0 NON2XX=0
		return 1
	fi
	RPS=$(printf '%s' "$_line" | sed 's/.* rps=\([0-9.]*\).*/\1/')
	P50=$(printf '%s' "$_line" | sed 's/.* p50_ms=\([0-9.]*\).*/\1/')
	P99=$(printf '%s' "$_line" | sed 's/.* p99_ms=\([0-9.]*\).*/\1/')
	NON2XX=$(printf '%s' "$_line" | sed 's/.* non2xx=\([0-9]*\).*/\1/')
	REQS=$(printf '%s' "$_line" | sed 's/.*requests=\([0-9]*\).*/\1/')
	say "$(printf '  %-34s c=%-3s %9.0f/s  p50 %6.2f ms  p99 %6.2f ms  non-2xx %s' "$1" "$2" "$RPS" "$P50" "$P99" "$NON2XX")"
}

# pgbench_run NAME CLIENTS SCRIPT [DB] -> sets TPS P99 (latency percentiles from the log);
# $PGBENCH_EXTRA adds flags (e.g. -M prepared)
pgbench_run() {
	_log=$BENCH_WORK/pgbench.$$
	rm -rf "$_log"; mkdir -p "$_log"
	_out=$(cd "$_log" && pgbench -n -h "$BENCH_PG" -p "$BENCH_PG_PORT" -U ringlog -c "$2" -j 2 \
		-T "$BENCH_DURATION" ${PGBENCH_EXTRA:-} -f "$3" -l "${4:-ringlog}" 2>&1)
	TPS=$(printf '%s\n' "$_out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | tail -1)
	P99=$(cat "$_log"/pgbench_log.* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {print a[int(NR*0.99)]/1000}')
	P50=$(cat "$_log"/pgbench_log.* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {print a[int(NR*0.5)]/1000}')
	rm -rf "$_log"
	say "$(printf '  %-34s c=%-3s %9.0f/s  p50 %6.2f ms  p99 %6.2f ms' "$1" "$2" "${TPS:-0}" "${P50:-0}" "${P99:-0}")"
}

# verdict TEXT MET(0|1) -> prints "target ...: met/missed"
verdict() {
	if [ "$2" = 1 ]; then say "  target $1: MET"; else say "  target $1: MISSED"; fi
}

# The middle of the numbers on standard input, one a line.
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }' && echo 1 || echo 0; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }' && echo 1 || echo 0; }

# The reference receiver (Node.js + express + pg), prepared once per run.
peer_start() {
	[ -d "$PEER_DIR" ] || { say "  (reference peer not found at $PEER_DIR: set RINGLOG_PEER_DIR)"; return 1; }
	if [ ! -d "$BENCH_WORK/peer/node_modules" ]; then
		rm -rf "$BENCH_WORK/peer"
		cp -r "$PEER_DIR" "$BENCH_WORK/peer"
		chmod -R u+w "$BENCH_WORK/peer"
		(cd "$BENCH_WORK/peer" && npm ci --silent --no-audit --no-fund >/dev/null 2>&1) ||
			{ say "  (npm ci failed for the reference peer)"; return 1; }
	fi
	PGOPTIONS="-c client_min_messages=warning" psql -h "$BENCH_PG" -p "$BENCH_PG_PORT" -U ringlog \
		-d postgres -qAt -c "DROP DATABASE IF EXISTS bench" -c "CREATE DATABASE bench" >/dev/null
	psql -h "$BENCH_PG" -p "$BENCH_PG_PORT" -U ringlog -d bench -q -f "$BENCH_WORK/peer/schema.sql" >/dev/null
	PEER_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	DATABASE_URL="postgres://ringlog@127.0.0.1:$BENCH_PG_PORT/bench" PORT=$PEER_PORT \
		node "$BENCH_WORK/peer/server.js" >"$BENCH_WORK/peer.log" 2>&1 &
	PEER_PID=$!
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$PEER_PORT/" && return 0
		sleep 0.1
	done
	say "  (the reference peer did not start: $(tail -3 "$BENCH_WORK/peer.log"))"
	return 1
}

peer_stop() {
	[ -n "${PEER_PID:-}" ] || return 0
	kill "$PEER_PID" 2>/dev/null || true
	wait "$PEER_PID" 2>/dev/null || true
	PEER_PID=
}

# daemon_start PROGRAM LOG ARGS... -> sets DAEMON_PID DAEMON_PORT
daemon_start() {
	_prog=$1 _log=$2
	shift 2
	"$BENCH_BIN/$_prog" --database-url "$BENCH_DB_TCP" --listen 127.0.0.1:0 "$@" >"$_log" 2>&1 &
	DAEMON_PID=$!
	for _ in $(seq 100); do
		DAEMON_PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\).*/\1/p' "$_log" | head -1)
		[ -n "$DAEMON_PORT" ] && return 0
		sleep 0.1
	done
	cat "$_log" >&2
	return 1
}

daemon_stop() {
	kill -TERM "$DAEMON_PID" 2>/dev/null || true
	wait "$DAEMON_PID" 2>/dev/null || true
}

# Peak resident memory (VmHWM) of a process, in MiB.
peak_rss_mib() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
