# Screen pop: a ringing group of 10 stations asking at once (wrk, 10
# connections) over 100,000 leads; beside pgbench running the same look-up
# on the same cluster, and the reference receiver's look-up (last 5 calls of
# the caller, indexed) over 100,000 calls. ringlog also records every ringing
# event (written in batches by the daemon): counted below.
# Targets: at least 4x the reference receiver, p99 under 2 ms; with answers
# from memory (issue 12) at least 0.5x pgbench's look-up, p99 under 1 ms.

say "== screen pop: 10 concurrent look-ups over 100,000 leads =="
POP_LUA=$ROOT/bench/screenpop.lua
POP_KEY=bench-screenpop-key

printf '%s\n' "$POP_KEY" | "$BENCH_BIN/ringlog" --database "$BENCH_DB" source add pop --secret-file - \
	--auth query --vendor voicenter --time-zone Asia/Jerusalem --country-code 972 --trunk-prefix 0 \
	--crm-url-template 'https://crm.example.co.il/contacts/{id}' \
	--crm-new-url-template 'https://crm.example.co.il/contacts/new?phone={phone}' >/dev/null
psql "$BENCH_DB" -qAt <<SQL
INSERT INTO leads (phone, name, company, crm_id, responsible)
SELECT '9725' || lpad(i::text, 8, '0'), 'Lead ' || i, 'Company ' || (i % 997), 'crm-' || i, 'agent-' || (i % 50)
  FROM generate_series(0, 99999) i;
ANALYZE leads;
SQL
plan=$(psql "$BENCH_DB" -qAt -c "EXPLAIN (COSTS OFF) SELECT id FROM leads WHERE phone = '972500012345' AND status = 'open' ORDER BY id LIMIT 1" | tr '\n' ' ')
say "  $(psql "$BENCH_DB" -qAt -c "SELECT count(*) FROM leads") leads; the look-up's plan: $plan"

# The daemon as configured by default (4 HTTP threads: pushes never block
# one, they wait for their writer suspended), then with as many HTTP threads
# as cores: a look-up blocks its thread for one short query only.
export MODE=ringlog KEY=$POP_KEY
# Steady state: the daemon's lead cache loaded (issue 12), not its start.
cache_loaded() {
	for _ in $(seq 100); do
		curl -s "http://127.0.0.1:$DAEMON_PORT/metrics" | grep -q '^ringlog_screenpop_cache_numbers [1-9]' && return 0
		sleep 0.1
	done
}
events_before=$(psql "$BENCH_DB" -qAt -c "SELECT count(*) FROM call_events")
daemon_start ringlog-ingestd "$BENCH_WORK/ingestd-screenpop.log" --spool-dir "$BENCH_WORK/spool"
cache_loaded
wrk_run "ringlog-ingestd (default threads)" 10 "$POP_LUA" "http://127.0.0.1:$DAEMON_PORT/"
rl=$RPS; rl_p99=$P99; rl_non2xx=$NON2XX; rl_reqs=$REQS
daemon_stop
# Three rounds, the verdicts on the medians: on 2 cores one round's p99 is
# bimodal (eight rounds of one configuration: 0.3-0.8 ms or 1.6-5 ms).
daemon_start ringlog-ingestd "$BENCH_WORK/ingestd-screenpop.log" --spool-dir "$BENCH_WORK/spool" \
	--threads "$(nproc)"
cache_loaded
p99s="" rpss=""
for round in 1 2 3; do
	wrk_run "ringlog-ingestd (threads = $(nproc), round $round)" 10 "$POP_LUA" "http://127.0.0.1:$DAEMON_PORT/"
	p99s="$p99s$P99
"; rpss="$rpss$RPS
"
	rl_non2xx=$((rl_non2xx + NON2XX)); rl_reqs=$((rl_reqs + REQS))
done
rl_c_p99=$(printf '%s' "$p99s" | median)
rl_c=$(printf '%s' "$rpss" | median)
daemon_stop
events=$(( $(psql "$BENCH_DB" -qAt -c "SELECT count(*) FROM call_events") - events_before ))

# The same look-up, straight from pgbench (prepared, as ringlog runs it).
cat >"$BENCH_WORK/screenpop.sql" <<SQL
\set i random(0, 109999)
SELECT count(*) OVER (), id, crm_id, name, company, crm_url
  FROM leads WHERE phone = '9725' || lpad(:i::text, 8, '0') AND status = 'open' ORDER BY id LIMIT 1;
SQL
PGBENCH_EXTRA="-M prepared" pgbench_run "pgbench: the same look-up" 10 "$BENCH_WORK/screenpop.sql"
pg_same=$TPS

if peer_start; then
	psql -h "$BENCH_PG" -p "$BENCH_PG_PORT" -U ringlog -d bench -qAt <<SQL
INSERT INTO cdr (call_id, source, direction, caller, callee, did, agent_ext, started_at, duration_s,
                 billsec, disposition, raw)
SELECT 'seed-' || i, 'pbx', 'inbound', '+9725' || lpad(i::text, 8, '0'), '+97237375010', '+97237375010',
       '231', now() - i * interval '1 minute', 60, 50, 'ANSWERED', '{}'
  FROM generate_series(0, 99999) i;
ANALYZE cdr;
SQL
	export MODE=peer
	wrk_run "reference peer (node+express+pg)" 10 "$POP_LUA" "http://127.0.0.1:$PEER_PORT/"
	peer=$RPS
	peer_stop
else
	peer=0
fi

say "  $rl_reqs screen pops answered ($rl_non2xx not 2xx), $events ringing events recorded"
say "  ringlog / pgbench same look-up:   default $(ratio "$rl" "$pg_same")x  threads=cores $(ratio "$rl_c" "$pg_same")x"
say "  ringlog / reference peer:         default $(ratio "$rl" "$peer")x  threads=cores $(ratio "$rl_c" "$peer")x"
verdict ">= 4x the reference peer (default threads)" "$(ge "$(ratio "$rl" "$peer")" 4)"
verdict "p99 < 2 ms at 10 connections (default threads: $rl_p99 ms)" "$(lt "$rl_p99" 2)"
verdict ">= 4x the reference peer (threads = cores)" "$(ge "$(ratio "$rl_c" "$peer")" 4)"
verdict "p99 < 2 ms at 10 connections (threads = cores, median round: $rl_c_p99 ms)" "$(lt "$rl_c_p99" 2)"
# Issue 12 (answers from memory): beside pgbench's own look-up, threads = cores.
verdict ">= 0.5x pgbench same look-up (threads = cores)" "$(ge "$(ratio "$rl_c" "$pg_same")" 0.5)"
verdict "p99 < 1 ms at 10 connections (threads = cores, median round: $rl_c_p99 ms)" "$(lt "$rl_c_p99" 1)"
