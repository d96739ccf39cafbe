# Webhooks under the ingest benchmark's load: pushes with wrk (post.lua) to
# ringlog-ingestd with a subscription to every event type off (disabled:
# the triggers write nothing) and on, alternately, BENCH_WEBHOOK_ROUNDS
# times (this machine is shared: medians of alternating runs, not one run
# each). ringlog-fetcherd delivers to a local receiver (Node, 204) all the
# while. Commit-to-delivery latency is read from the outbox itself
# (delivered_at - occurred_at, both clock_timestamp() in PostgreSQL).

say "== webhooks: ingest with and without a subscription, commit-to-delivery latency =="
POST_LUA=$PEER_DIR/post.lua
[ -f "$POST_LUA" ] || { say "  (post.lua not found at $POST_LUA)"; return 0; }
ROUNDS=${BENCH_WEBHOOK_ROUNDS:-3}
# BENCH_WH_WORKERS=0: no delivery at all (what writing the events alone costs ingest).

"$BENCH_BIN/ringlog" --database "$BENCH_DB" source add whbench --auth none >/dev/null 2>&1 || true
node "$ROOT/bench/webhook_receiver.mjs" >"$BENCH_WORK/receiver.log" 2>&1 &
RECV_PID=$!
for _ in $(seq 100); do
	RECV_PORT=$(sed -n 's/^listening on \([0-9]*\)$/\1/p' "$BENCH_WORK/receiver.log")
	[ -n "$RECV_PORT" ] && break
	sleep 0.1
done
head -c 32 /dev/urandom | base64 >"$BENCH_WORK/webhooks-signing.key"
psql "$BENCH_DB" -qAt -c "TRUNCATE webhooks, webhook_events" >/dev/null
"$BENCH_BIN/ringlog" --database "$BENCH_DB" webhook add bench --url "http://127.0.0.1:$RECV_PORT/hook" \
	--events all >/dev/null

daemon_start ringlog-fetcherd "$BENCH_WORK/fetcherd-wh.log" --signing-key-file "$BENCH_WORK/webhooks-signing.key" \
	--webhook-workers "${BENCH_WH_WORKERS:-4}"
FETCH_PID=$DAEMON_PID
daemon_start ringlog-ingestd "$BENCH_WORK/ingestd-wh.log" --spool-dir "$BENCH_WORK/spool-wh"
offs= ons=
drain() {
	for _ in $(seq $([ "${BENCH_WH_WORKERS:-4}" = 0 ] && echo 1 || echo 300)); do
		left=$(psql "$BENCH_DB" -qAt -c "SELECT count(*) FROM webhook_events WHERE state = 'pending'")
		[ "$left" = 0 ] && break
		sleep 0.2
	done
}
for r in $(seq "$ROUNDS"); do
	drain # a disabled subscription is not delivered to: the on round's events first
	psql "$BENCH_DB" -qAt -c "UPDATE webhooks SET state = 'disabled'" >/dev/null
	wrk_run "ingest, webhooks off (round $r)" 10 "$POST_LUA" "http://127.0.0.1:$DAEMON_PORT/v1/cdr/whbench"
	offs="$offs $RPS"
	psql "$BENCH_DB" -qAt -c "UPDATE webhooks SET state = 'active'" >/dev/null
	wrk_run "ingest, webhooks on (round $r)" 10 "$POST_LUA" "http://127.0.0.1:$DAEMON_PORT/v1/cdr/whbench"
	ons="$ons $RPS"
done
daemon_stop
drain
stats=$(psql "$BENCH_DB" -qAt -F' ' -c "SELECT count(*),
	round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - occurred_at)) * 1000)::numeric, 1),
	round((percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - occurred_at)) * 1000)::numeric, 1),
	round((max(extract(epoch FROM delivered_at - occurred_at)) * 1000)::numeric, 1)
	FROM webhook_events WHERE state = 'delivered'")
set -- $stats
delivered=${1:-0} lat50=${2:-0} lat99=${3:-0} latmax=${4:-0}
DAEMON_PID=$FETCH_PID
daemon_stop
kill -TERM "$RECV_PID" 2>/dev/null || true
wait "$RECV_PID" 2>/dev/null || true
median() { printf '%s\n' $* | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
off=$(median $offs) on=$(median $ons)

say "  events delivered $delivered (pending left: $left); commit to delivery p50 $lat50 ms, p99 $lat99 ms, max $latmax ms"
say "  ingest with webhooks / without (medians of $ROUNDS alternating runs: $on/s, $off/s): $(ratio "$on" "$off")x"
verdict "p99 commit-to-delivery < 1 s ($lat99 ms)" "$(lt "$lat99" 1000)"
verdict "ingest with webhooks >= 0.9x without" "$(ge "$(ratio "$on" "$off")" 0.9)"
