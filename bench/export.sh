# CSV export of 1,000,000 calls: GET /v1/export.csv through ringlog-fetcherd
# (curl to /dev/null) against psql's \copy of the very same COPY statement
# on the same cluster (ringlog_export_calls with the same literal values,
# JIT off in both); and the daemon's peak resident memory while it streams.
# Alternated, best of BENCH_EXPORT_RUNS each.

say "== export: 1,000,000 calls as CSV =="
EXPORT_ROWS=${BENCH_EXPORT_ROWS:-1000000}
EXPORT_RUNS=${BENCH_EXPORT_RUNS:-3}

"$BENCH_BIN/ringlog" --database "$BENCH_DB" source add bench-export --auth none >/dev/null
psql "$BENCH_DB" -q <<SQL
INSERT INTO leads (phone, name, company)
SELECT '3630' || lpad(g::text, 7, '0'), 'Kovács Éva ' || g, 'Acme, "Kft" ' || (g % 100)
  FROM generate_series(1, 10000) g;
INSERT INTO agents (source_id, extension, crm_user, name)
SELECT (SELECT id FROM sources WHERE name = 'bench-export'), (1000 + g)::text, 'user' || g, 'Agent ' || g
  FROM generate_series(0, 49) g;
INSERT INTO calls (source_id, pbx_call_id, direction, disposition, caller, caller_e164, callee,
                   callee_e164, did, agent, agent_name, started_at, duration_s, billable_s, lead_id, raw)
SELECT (SELECT id FROM sources WHERE name = 'bench-export'), 'bench-' || g,
       CASE WHEN g % 3 = 0 THEN 'out' ELSE 'in' END,
       CASE WHEN g % 7 = 0 THEN 'missed' ELSE 'answered' END,
       '+36 30 ' || lpad((g % 10000 + 1)::text, 7, '0'), '3630' || lpad((g % 10000 + 1)::text, 7, '0'),
       '+36 1 456 7890', '3614567890', '+3614567890', (1000 + g % 60)::text, 'PBX agent',
       timestamptz '2025-01-01 00:00+01' + g * interval '25 seconds', 120, 100,
       CASE WHEN g % 3 <> 0 THEN g % 10000 + 1 END, '{}'
  FROM generate_series(1, $EXPORT_ROWS) g;
INSERT INTO recordings (call_id, position, state, remote_ref)
SELECT id, 0, 'remote', 'rec-' || id FROM calls WHERE id % 2 = 0;
VACUUM ANALYZE;
SQL

head -c 32 /dev/urandom | base64 >"$BENCH_WORK/export-signing.key"
EXPORT_TOKEN=$("$BENCH_BIN/ringlog" --database "$BENCH_DB" token add bench-export | sed -n 2p)
daemon_start ringlog-fetcherd "$BENCH_WORK/fetcherd.log" --signing-key-file "$BENCH_WORK/export-signing.key"

# The whole year 2025 in Budapest, as an accountant would ask for it.
EXPORT_URL="http://127.0.0.1:$DAEMON_PORT/v1/export.csv?from=2025-01-01&to=2025-12-31&tz=Europe/Budapest"
# What the daemon runs: PostgreSQL writes the COPY with format(), so ask it
# for the same statement with the same values.
EXPORT_COPY=$(psql "$BENCH_DB" -qAt -c "SELECT format('(SELECT * FROM ringlog_export_calls(%L, %L, %L, %L, %L, %L)) TO STDOUT WITH (FORMAT csv, HEADER true, ENCODING %L, DELIMITER %L)',
  ringlog_utc_text(ringlog_query_bound('2025-01-01', 'Europe/Budapest', false)),
  ringlog_utc_text(ringlog_query_bound('2025-12-31', 'Europe/Budapest', true)),
  'Europe/Budapest', NULL, NULL, NULL, 'UTF8', ',')")

now_s() { date +%s.%N; }
rl_best=0 psql_best=0 rl_lines=0 psql_lines=0
rss_before=$(awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$DAEMON_PID/status")
for run in $(seq "$EXPORT_RUNS"); do
	t0=$(now_s)
	rl_lines=$(curl -sf -H "Authorization: Bearer $EXPORT_TOKEN" "$EXPORT_URL" | wc -l)
	t1=$(now_s)
	psql_lines=$(PGOPTIONS="-c jit=off" psql -X -q -h 127.0.0.1 -p "$BENCH_PG_PORT" -U ringlog -d ringlog \
		-c "\\copy $EXPORT_COPY" | wc -l)
	t2=$(now_s)
	rl=$(awk -v n="$rl_lines" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (n - 1) / (b - a) }')
	pq=$(awk -v n="$psql_lines" -v a="$t1" -v b="$t2" 'BEGIN { printf "%.0f", (n - 1) / (b - a) }')
	say "$(printf '  run %s: ringlog-fetcherd %9s rows/s   psql \\copy %9s rows/s' "$run" "$rl" "$pq")"
	[ "$(ge "$rl" "$rl_best")" = 1 ] && rl_best=$rl
	[ "$(ge "$pq" "$psql_best")" = 1 ] && psql_best=$pq
done
rss_peak=$(peak_rss_mib "$DAEMON_PID")
daemon_stop

say "  rows: fetcherd $((rl_lines - 1)), psql $((psql_lines - 1)) (header excluded)"
say "  fetcherd resident memory: $rss_before MiB before, peak $rss_peak MiB over $EXPORT_RUNS exports"
say "  ringlog / psql \\copy (best of $EXPORT_RUNS): $(ratio "$rl_best" "$psql_best")x"
verdict ">= 0.9x psql \\copy rows/s" "$(ge "$(ratio "$rl_best" "$psql_best")" 0.9)"
verdict "peak RSS < 32 MiB while exporting ($rss_peak MiB)" "$(lt "$rss_peak" 32)"
verdict "every row exported ($((rl_lines - 1)) of $EXPORT_ROWS)" "$( [ $((rl_lines - 1)) -eq "$EXPORT_ROWS" ] && echo 1 || echo 0)"
