# Years of calls: BENCH_SCALE_CALLS (default 10,000,000) calls over the 12
# months before now, in monthly partitions, 3 sources (and an old PBX with
# no calls whose agents map to the same CRM users), 60 agents, 100,000
# leads, half the calls with a recording. Measures the first page of
# GET /v1/calls for each filter, and a second page (with the cursor) of the
# filters that are an OR (p50 and p99 of BENCH_SCALE_REQUESTS sequential
# requests, curl's total time, once the worker threads are warm), the
# export of one month (rows/s, best of BENCH_SCALE_EXPORT_RUNS) against the
# same export at 1,000,000 calls measured first in the same run, expiring
# the oldest month (a partition drop) and the bytes each call takes on disk.

SCALE_CALLS=${BENCH_SCALE_CALLS:-10000000}
SCALE_REQUESTS=${BENCH_SCALE_REQUESTS:-200}
SCALE_EXPORT_RUNS=${BENCH_SCALE_EXPORT_RUNS:-3}
SCALE_REFERENCE=1000000
say "== scale: $SCALE_CALLS calls over 12 months =="

for s in scale-a scale-b scale-c scale-old; do
	"$BENCH_BIN/ringlog" --database "$BENCH_DB" source add "$s" --auth none >/dev/null
done
psql "$BENCH_DB" -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
INSERT INTO leads (phone, name)
SELECT '3630' || lpad(g::text, 7, '0'), 'Lead ' || g FROM generate_series(1, 100000) g;
INSERT INTO agents (source_id, extension, crm_user, name)
SELECT s.id, (1000 + g)::text, 'user' || g, 'Agent ' || g
  FROM sources s CROSS JOIN generate_series(0, 19) g WHERE s.name LIKE 'scale-%';
SQL

# scale_load N: N calls over the 12 months before now (and their keys and
# recordings), in place of any loaded before. Source, direction and
# disposition vary independently of each other (g % 3, g / 3 % 3, g % 7 and
# g % 50); every call has the company's DID as callee.
scale_load() {
	psql "$BENCH_DB" -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
SET client_min_messages = warning;
TRUNCATE calls, call_keys CASCADE;
-- The months' partitions, now that calls_default holds no call of theirs
-- (an earlier section's calls would keep them from being made).
SELECT count(*) FROM ringlog_calls_partitions(3, now() - interval '12 months');
-- Loaded as ingest would leave them, keys first (the trigger is for others).
ALTER TABLE calls DISABLE TRIGGER calls_key_insert;
CREATE TEMP TABLE gen AS
SELECT g, (SELECT min(id) FROM sources WHERE name LIKE 'scale-%') + g % 3 AS src,
       now() - interval '365 days' + g * (interval '365 days' / $1) AS t
  FROM generate_series(1, $1) g;
INSERT INTO call_keys (call_id, source_id, pbx_call_id, started_at)
SELECT g, src, 'scale-' || g, t FROM gen;
SELECT setval('call_keys_call_id_seq', $1 + 1, false);
INSERT INTO calls (id, source_id, pbx_call_id, direction, disposition, caller, caller_e164, callee,
                   callee_e164, did, agent, agent_name, started_at, answered_at, ended_at,
                   duration_s, billable_s, lead_id, raw)
SELECT g, src, 'scale-' || g,
       CASE WHEN g / 3 % 3 = 0 THEN 'out' ELSE 'in' END,
       CASE WHEN g % 7 = 0 THEN 'missed' WHEN g % 50 = 1 THEN 'busy' ELSE 'answered' END,
       '+36 30 ' || lpad((g % 150000 + 1)::text, 7, '0'), '3630' || lpad((g % 150000 + 1)::text, 7, '0'),
       '+36 1 456 7890', '3614567890', '+3614567890',
       CASE WHEN g % 1000 = 7 THEN '1999' ELSE (1000 + g % 20)::text END, 'PBX agent',
       t, t + interval '10 seconds', t + interval '130 seconds', 130, 120,
       CASE WHEN g % 150000 < 100000 THEN g % 150000 + 1 END,
       jsonb_build_object('id', g, 'billsec', 120, 'disposition', 'ANSWERED')
  FROM gen;
ALTER TABLE calls ENABLE TRIGGER calls_key_insert;
INSERT INTO recordings (call_id, position, state, remote_ref)
SELECT g, 0, 'remote', 'rec-' || g FROM gen WHERE g % 2 = 0;
VACUUM ANALYZE;
SQL
}

# scale_export -> EXPORT_ROWS, EXPORT_RATE: the best of SCALE_EXPORT_RUNS
# exports of the month that began 3 months ago (fetcherd must be running).
MONTH_FROM=$(date -u -d '-3 months' +%Y-%m-01)
MONTH_LAST=$(date -u -d "$MONTH_FROM +1 month -1 day" +%Y-%m-%d)
scale_export() {
	EXPORT_RATE=0
	for _ in $(seq "$SCALE_EXPORT_RUNS"); do
		_t0=$(date +%s.%N)
		_rows=$(curl -sf -H "Authorization: Bearer $SCALE_TOKEN" \
			"$BASE/v1/export.csv?from=$MONTH_FROM&to=$MONTH_LAST" | wc -l)
		_t1=$(date +%s.%N)
		EXPORT_ROWS=$((_rows - 1))
		_rate=$(awk -v n="$EXPORT_ROWS" -v a="$_t0" -v b="$_t1" 'BEGIN { printf "%.0f", n / (b - a) }')
		if [ "$(ge "$_rate" "$EXPORT_RATE")" = 1 ]; then EXPORT_RATE=$_rate; fi
	done
}

head -c 32 /dev/urandom | base64 >"$BENCH_WORK/scale-signing.key"
SCALE_TOKEN=$("$BENCH_BIN/ringlog" --database "$BENCH_DB" token add bench-scale | sed -n 2p)
if [ "$SCALE_CALLS" != "$SCALE_REFERENCE" ]; then
	scale_load "$SCALE_REFERENCE"
	daemon_start ringlog-fetcherd "$BENCH_WORK/fetcherd-scale.log" --signing-key-file "$BENCH_WORK/scale-signing.key"
	BASE="http://127.0.0.1:$DAEMON_PORT"
	scale_export
	daemon_stop
	REFERENCE_RATE=$EXPORT_RATE
	say "  export of one month at $SCALE_REFERENCE calls (the reference): $EXPORT_ROWS rows, $EXPORT_RATE rows/s"
fi

t0=$(date +%s)
scale_load "$SCALE_CALLS"
say "  loaded in $(( $(date +%s) - t0 )) s"
psql "$BENCH_DB" -qAt -c "SELECT '  partitions: ' || count(*) FROM pg_inherits WHERE inhparent = 'calls'::regclass" | tee -a "$BENCH_OUT"
bytes=$(psql "$BENCH_DB" -qAt -c "SELECT round((pg_total_relation_size('call_keys') + pg_total_relation_size('recordings')
  + (SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'calls'::regclass))
  / $SCALE_CALLS)")
say "  bytes per call on disk (calls + keys + recordings, with indexes): $bytes"

daemon_start ringlog-fetcherd "$BENCH_WORK/fetcherd-scale.log" --signing-key-file "$BENCH_WORK/scale-signing.key"
BASE="http://127.0.0.1:$DAEMON_PORT"
WEEK_FROM=$(date -u -d '-180 days' +%Y-%m-%d)
WEEK_TO=$(date -u -d '-173 days' +%Y-%m-%d)
# latency QUERY -> P50 P99: of SCALE_REQUESTS sequential requests of
# GET /v1/calls?QUERY, in ms.
latency() {
	set -- $(for _ in $(seq "$SCALE_REQUESTS"); do
		curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $SCALE_TOKEN" "$BASE/v1/calls?$1"
	done | sort -n | awk -v n="$SCALE_REQUESTS" '{a[NR]=$1} END {
		i=int(n*0.99); if (i < 1) i = 1; printf "%.1f %.1f", a[int((n+1)/2)]*1000, a[i]*1000 }')
	P50=$1 P99=$2
}
# Each worker thread's connection reads the partitions' catalog entries on
# its first query (tens of ms, once): concurrent requests first, so that
# the threads have each served one before the measurements.
seq 64 | xargs -P 16 -I{} curl -s -o /dev/null -H "Authorization: Bearer $SCALE_TOKEN" "$BASE/v1/calls"
# A customer's number (on a few calls, as caller) and the company's DID (the
# callee of every call); an extension, a rare one, a CRM user (an extension
# on each of the 3 sources).
worst=0
for f in "" "lead_id=5" "lead_id=99999" "phone=%2B36300000005" "phone=%2B3614567890" \
	"agent=1005" "agent=1999" "agent=user5" "source=scale-b" "direction=out" "disposition=busy" \
	"from=$WEEK_FROM&to=$WEEK_TO" "source=scale-a&direction=in&disposition=missed" \
	"has_recording=false" "agent=user5&direction=in" "direction=internal" "disposition=voicemail"; do
	latency "$f"
	say "$(printf '  first page %-46s p50 %5s ms  p99 %6s ms' "${f:-(no filter)}" "$P50" "$P99")"
	[ "$(ge "$P99" "$worst")" = 1 ] && worst=$P99
done
for f in "phone=%2B3614567890" "agent=user5"; do
	cursor=$(curl -s -H "Authorization: Bearer $SCALE_TOKEN" "$BASE/v1/calls?$f" |
		sed -n 's/.*"next_cursor": *"\([A-Za-z0-9_-]*\)".*/\1/p')
	latency "$f&cursor=$cursor"
	say "$(printf '  page 2     %-46s p50 %5s ms  p99 %6s ms' "$f" "$P50" "$P99")"
	[ "$(ge "$P99" "$worst")" = 1 ] && worst=$P99
done
verdict "p99 < 20 ms for every filter, first page and page 2 (worst $worst ms)" "$(lt "$worst" 20)"

scale_export
say "  export of one month: $EXPORT_ROWS rows, $EXPORT_RATE rows/s (best of $SCALE_EXPORT_RUNS)"
if [ -n "${REFERENCE_RATE:-}" ]; then
	say "  export rows/s at $SCALE_CALLS / at $SCALE_REFERENCE calls: $(ratio "$EXPORT_RATE" "$REFERENCE_RATE")x"
	verdict "export rows/s within 10% of the $SCALE_REFERENCE-call figure" \
		"$(ge "$(ratio "$EXPORT_RATE" "$REFERENCE_RATE")" 0.9)"
fi
daemon_stop

psql "$BENCH_DB" -q -c "UPDATE sources SET keep_calls = interval '340 days'"
drop_ms=$(psql "$BENCH_DB" -qAt <<'SQL' | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | head -1
\timing on
SELECT month, calls FROM ringlog_drop_expired_months(NULL);
SQL
)
say "  expiring the oldest month: partition drop $drop_ms ms"
verdict "expiring one month < 1 s ($drop_ms ms)" "$(lt "${drop_ms:-99999}" 1000)"
t0=$(date +%s)
"$BENCH_BIN/ringlog" --database "$BENCH_DB" maintain >/dev/null
say "  then the keys and recordings' rows of that month, in batches: $(( $(date +%s) - t0 )) s"
