# Reconciliation (docs/reconcile.md): how many call-log records a pull maps
# and stores a second, through a custom mapping's "pull"
# (tests/fixtures/custom/vipex-pull-mapping.json) against a local fake API
# (bench/reconcile_api.py, pages built once): a day of lost calls filled
# (each a new call, lead rules applied), then the same day again (each a
# duplicate). Pages of 500, no pace.

RECON_N=${RECON_N:-20000}
say "== reconcile: $RECON_N records of a day through a mapping's pull =="
# A port file of an earlier run must not be read: removed before the API starts.
rm -f "$BENCH_WORK/reconcile-api.port"
python3 bench/reconcile_api.py "$RECON_N" >"$BENCH_WORK/reconcile-api.port" 2>"$BENCH_WORK/reconcile-api.log" &
RECON_API=$!
while [ ! -s "$BENCH_WORK/reconcile-api.port" ]; do
	kill -0 "$RECON_API" 2>/dev/null || { cat "$BENCH_WORK/reconcile-api.log" >&2; exit 1; }
	sleep 0.1
done
RECON_URL=http://127.0.0.1:$(cat "$BENCH_WORK/reconcile-api.port")/api/v1/calls
"$BENCH_BIN/ringlog" --database "$BENCH_DB" source remove bench-vipex --force >/dev/null 2>&1 || true
echo bench-push-secret | "$BENCH_BIN/ringlog" --database "$BENCH_DB" source add bench-vipex --vendor custom \
	--mapping-file tests/fixtures/custom/vipex-pull-mapping.json --time-zone Europe/Budapest \
	--country-code 36 --trunk-prefix 06 --secret-file - >/dev/null
echo bench-pull-key | "$BENCH_BIN/ringlog" --database "$BENCH_DB" source update bench-vipex \
	--pull-url "$RECON_URL" --pull-secret-file - >/dev/null
for pass in "filled (new calls)" "again (duplicates)"; do
	t0=$(date +%s.%N)
	out=$("$BENCH_BIN/ringlog" --database "$BENCH_DB" reconcile bench-vipex --since 2025-06-16 \
		--until 2025-06-17 --pace 0 2>&1) || { say "  $out"; kill "$RECON_API"; exit 1; }
	t1=$(date +%s.%N)
	say "  $out"
	say "$(awk -v a="$t0" -v b="$t1" -v n="$RECON_N" -v p="$pass" \
		'BEGIN { printf "  %-22s %8.2f s  %8.0f records/s", p, b - a, n / (b - a) }')"
done
kill "$RECON_API" 2>/dev/null
