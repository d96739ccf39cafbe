# Erasing a person (README "Privacy"): `ringlog erase` of a number with
# 10,000 calls (each with a revision and a stored 4 KiB recording in the
# file-system blob store; 1,000 tasks) among 110,000 calls: the database's
# transaction alone (psql, REPEATABLE READ), and the whole command with the
# blobs deleted through the blob interface.

say "== erase: a number with 10,000 calls =="
ERASE_KEY=$BENCH_PRIVACY_KEY
ERASE_BLOBS=$BENCH_WORK/erase-blobs
erase_seed() {
	psql "$BENCH_DB" -q <<'SQL'
DELETE FROM sources WHERE name = 'bench-erase';
INSERT INTO sources (name, auth_mode, country_code) VALUES ('bench-erase', 'none', '36');
INSERT INTO leads (phone, name, origin) VALUES ('36301234567', 'bench', 'ringlog');
INSERT INTO calls (source_id, pbx_call_id, direction, disposition, caller, caller_e164, callee,
                   started_at, lead_id, raw)
SELECT (SELECT id FROM sources WHERE name = 'bench-erase'), 'erase-n-' || g, 'in', 'answered',
       '06301234567', '36301234567', '1002', now() - (g % 330) * interval '1 day',
       (SELECT max(id) FROM leads WHERE phone = '36301234567'), '{"from": "06301234567"}'
  FROM generate_series(1, 10000) g;
INSERT INTO calls (source_id, pbx_call_id, direction, disposition, caller, caller_e164, callee, started_at, raw)
SELECT (SELECT id FROM sources WHERE name = 'bench-erase'), 'erase-o-' || g, 'in', 'answered',
       '0612' || lpad(g::text, 6, '0'), '3612' || lpad(g::text, 6, '0'), '1002',
       now() - (g % 330) * interval '1 day', '{}'
  FROM generate_series(1, 100000) g;
INSERT INTO call_revisions (call_id, revision, kind, raw, received_at)
SELECT id, 1, 'replaced', raw, now() FROM calls WHERE caller_e164 = '36301234567';
INSERT INTO recordings (call_id, position, state, blob_key, size_bytes)
SELECT id, 0, 'stored', md5(id::text) || md5(id::text), 4096 FROM calls WHERE caller_e164 = '36301234567';
INSERT INTO tasks (lead_id, call_id)
SELECT lead_id, id FROM calls WHERE caller_e164 = '36301234567' AND id % 10 = 0;
ANALYZE;
SQL
	psql "$BENCH_DB" -At -c "SELECT blob_key FROM recordings WHERE size_bytes = 4096" |
		while read -r k; do
			d=$ERASE_BLOBS/$(echo "$k" | cut -c1-2)/$(echo "$k" | cut -c3-4)
			mkdir -p "$d" && head -c 4096 /dev/urandom >"$d/$k"
		done
}
erase_seed
KEYHEX=$(sha256sum "$ERASE_KEY" | cut -c1-64)
t0=$(date +%s.%N)
psql "$BENCH_DB" -q -c "SET ringlog.privacy_key = '$KEYHEX'" -c "BEGIN ISOLATION LEVEL REPEATABLE READ" \
	-c "SELECT ringlog_erase('36301234567', NULL, false, 'bench') IS NOT NULL" -c "ROLLBACK" >/dev/null
t1=$(date +%s.%N)
say "erase, database transaction only (rolled back): $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
t0=$(date +%s.%N)
RINGLOG_PRIVACY_KEY_FILE=$ERASE_KEY RINGLOG_RECORDINGS_BLOB_DIR=$ERASE_BLOBS \
	"$BENCH_BIN/ringlog" --database "$BENCH_DB" erase --phone +36301234567 | tee -a "$BENCH_OUT"
t1=$(date +%s.%N)
say "erase, the whole command (10,000 blobs deleted): $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
say "blobs left: $(find "$ERASE_BLOBS" -type f | wc -l)"
