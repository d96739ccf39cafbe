# Durable ingest: POST /v1/cdr over loopback with wrk and the reference
# payload (post.lua, ~1.1 KB, a unique call id per request); the ceiling is
# pgbench running the same statement on the same cluster at 16 clients.

say "== ingest: durable end-of-call pushes =="
POST_LUA=$PEER_DIR/post.lua
[ -f "$POST_LUA" ] || { say "  (post.lua not found at $POST_LUA)"; return 0; }

"$BENCH_BIN/ringlog" --database "$BENCH_DB" source add bench --auth none >/dev/null
daemon_start ringlog-ingestd "$BENCH_WORK/ingestd.log" --spool-dir "$BENCH_WORK/spool"
before=$(psql "$BENCH_DB" -qAt -c "SELECT count(*) FROM calls")
wrk_run "ringlog-ingestd" 10 "$POST_LUA" "http://127.0.0.1:$DAEMON_PORT/v1/cdr/bench"
rl10=$RPS; rl10_p99=$P99; acked=$((REQS - NON2XX))
wrk_run "ringlog-ingestd" 50 "$POST_LUA" "http://127.0.0.1:$DAEMON_PORT/v1/cdr/bench"
rl50=$RPS; rl50_p99=$P99; acked=$((acked + REQS - NON2XX))
daemon_stop
stored=$(( $(psql "$BENCH_DB" -qAt -c "SELECT count(*) FROM calls") - before ))

# The ceiling: the same one-statement upsert ringlog runs per push, with a
# payload of the same size, straight from pgbench.
cat >"$BENCH_WORK/ingest.sql" <<SQL
SELECT * FROM ringlog_ingest_call(
  (SELECT id FROM sources WHERE name = 'bench'), 'pgb-' || gen_random_uuid(), 'in', 'answered',
  '+12020012345', '12020012345', 'WIRELESS CALLER', '+18005550100', '18005550100', '+18005550100',
  '231', 'Agent 231', '2025-06-16 09:00:00+00', '2025-06-16 09:00:20+00', '2025-06-16 09:10:20+00',
  'UTC', 620, 600, '[{"ref":"rec_1","url":"https://recordings.example.invalid/v1/rec_1.mp3"}]',
  '$(tr -d '\n' <"$ROOT/tests/fixtures/generic/peer-post.json")', now(), NULL);
SQL
pgbench_run "pgbench: ringlog's upsert" 16 "$BENCH_WORK/ingest.sql"
pg_same=$TPS
# For reference: a bare single-row INSERT of the same payload (the peer's).
if peer_start; then
	cat >"$BENCH_WORK/insert.sql" <<SQL
INSERT INTO cdr (call_id, source, direction, caller, callee, did, agent_ext, started_at,
  answered_at, ended_at, duration_s, billsec, disposition, recording_id, raw, lead_id)
VALUES ('pgb-' || gen_random_uuid(), 'pbx', 'inbound', '+12020012345', '+18005550100',
  '+18005550100', '231', now(), now(), now(), 620, 600, 'ANSWERED', 'rec_1',
  '$(tr -d '\n' <"$ROOT/tests/fixtures/generic/peer-post.json")', 42)
ON CONFLICT (call_id) DO NOTHING;
SQL
	pgbench_run "pgbench: bare INSERT (peer's table)" 16 "$BENCH_WORK/insert.sql" bench
	pg_bare=$TPS
	wrk_run "reference peer (node+express+pg)" 10 "$POST_LUA" "http://127.0.0.1:$PEER_PORT/cdr"
	peer10=$RPS
	wrk_run "reference peer (node+express+pg)" 50 "$POST_LUA" "http://127.0.0.1:$PEER_PORT/cdr"
	peer50=$RPS
	peer_stop
else
	pg_bare=0 peer10=0 peer50=0
fi

say "  acknowledged $acked pushes, stored $stored calls (nothing acknowledged lost: $( [ "$stored" -ge "$acked" ] && echo yes || echo NO))"
best=$(awk -v a="$rl10" -v b="$rl50" 'BEGIN { print (a > b) ? a : b }')
say "  ringlog / pgbench same upsert:  c=10 $(ratio "$rl10" "$pg_same")x  c=50 $(ratio "$rl50" "$pg_same")x"
say "  ringlog / pgbench bare INSERT:  c=10 $(ratio "$rl10" "$pg_bare")x  c=50 $(ratio "$rl50" "$pg_bare")x"
say "  ringlog / reference peer:       c=10 $(ratio "$rl10" "$peer10")x  c=50 $(ratio "$rl50" "$peer50")x"
# Issue 12's targets: against the bare single-row INSERT, not our own upsert.
verdict ">= 1.5x pgbench bare INSERT at 16 clients (c=50)" "$(ge "$(ratio "$rl50" "$pg_bare")" 1.5)"
verdict ">= 1.0x pgbench bare INSERT at 16 clients (c=10)" "$(ge "$(ratio "$rl10" "$pg_bare")" 1.0)"
verdict ">= 4x the reference peer (c=50)" "$(ge "$(ratio "$rl50" "$peer50")" 4)"
verdict "p99 < 10 ms at 50 connections ($rl50_p99 ms)" "$(lt "$rl50_p99" 10)"
say "  (best of c=10/50 / pgbench same upsert: $(ratio "$best" "$pg_same")x)"
