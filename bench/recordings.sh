# Recordings: a cold play's time to first byte against curl straight from
# the (fake) PBX, warm play throughput against nginx serving the same file,
# and ingestd's peak memory while a 50 MB recording is pushed inline.
#   bench/run recordings      (BENCH_DURATION seconds per wrk run)

say "== recordings: cold plays, warm plays, inline audio =="
REC_DIR=$BENCH_WORK/recordings
rm -rf "$REC_DIR"
mkdir -p "$REC_DIR/blobs" "$REC_DIR/www"
chmod 755 "$REC_DIR" "$REC_DIR/www"
REC_SECONDS=${REC_SECONDS:-180}   # a three-minute call: 2.9 MB of 8 kHz 16-bit WAV
REC_LATENCY_MS=${REC_LATENCY_MS:-50}
REC_COLD=${REC_COLD:-20}

python3 - "$REC_DIR/call.wav" "$REC_SECONDS" <<'PY'
import os, sys, wave
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
    w.writeframes(os.urandom(int(sys.argv[2]) * 16000))
PY
rec_size=$(stat -c %s "$REC_DIR/call.wav")

python3 tests/fakepbx.py --work "$REC_DIR" --file "$REC_DIR/call.wav" \
	--latency-ms "$REC_LATENCY_MS" >"$REC_DIR/pbx.out" 2>&1 &
REC_PBX_PID=$!
for _ in $(seq 50); do grep -q '^main' "$REC_DIR/pbx.out" && break; sleep 0.1; done
pbx_port=$(awk '/^main/ {print $2}' "$REC_DIR/pbx.out")
[ -n "$pbx_port" ] || { say "  (the fake PBX did not start)"; return 0; }

"$BENCH_BIN/ringlog" --database "$BENCH_DB" source add benchrec --auth none \
	--fetch-url-template "http://127.0.0.1:$pbx_port/rec/{ref}" >/dev/null
head -c 32 /dev/urandom | base64 >"$REC_DIR/signing.key"
rec_sql() { psql "$BENCH_DB" -qAt -c "$1"; }
call=$(rec_sql "INSERT INTO calls (source_id, pbx_call_id, direction, disposition, started_at, raw)
  SELECT id, 'bench-rec', 'in', 'answered', now(), '{}' FROM sources WHERE name = 'benchrec' RETURNING id" | head -1)
rec_sql "INSERT INTO recordings (call_id, position, state, remote_ref)
  SELECT $call, g, 'remote', 'ref-' || g FROM generate_series(0, $REC_COLD + 16) g" >/dev/null
first_id=$(rec_sql "SELECT min(id) FROM recordings WHERE call_id = $call")

daemon_start ringlog-fetcherd "$REC_DIR/fetcherd.log" --signing-key-file "$REC_DIR/signing.key" \
	--recordings-blob-dir "$REC_DIR/blobs" --fetch-workers 8
rec_fetcher_pid=$DAEMON_PID
signed() { # the play URL of recording $1 a browser would get
	python3 -c 'import hmac, hashlib, sys, time
key = open(sys.argv[1], "rb").read(); rid = sys.argv[2]; exp = int(time.time()) + 3600
sig = hmac.new(key, f"recording:{rid}:{exp}".encode(), hashlib.sha256).hexdigest()
print(f"/v1/recordings/{rid}?expires={exp}&sig={sig}")' "$REC_DIR/signing.key" "$1"
}
ttfb() { curl -s -o /dev/null -w '%{time_starttransfer}\n' "$1"; }
median_ms() { median | awk '{print $1 * 1000}'; }

# Steady state, as a daemon that has served a while: the server threads and
# fetch workers have their database connections and prepared statements.
for i in $(seq 1 16); do
	curl -s -o /dev/null "http://127.0.0.1:$DAEMON_PORT$(signed $((first_id + REC_COLD + i)))"
done
for _ in $(seq 64); do
	curl -s -o /dev/null "http://127.0.0.1:$DAEMON_PORT$(signed $((first_id + REC_COLD + 1)))"
done
# Cold plays: each recording is fetched on its first play; alternate with
# curl fetching the same file straight from the PBX.
: >"$REC_DIR/direct.txt"
: >"$REC_DIR/cold.txt"
for i in $(seq 1 "$REC_COLD"); do
	ttfb "http://127.0.0.1:$pbx_port/rec/direct-$i" >>"$REC_DIR/direct.txt"
	ttfb "http://127.0.0.1:$DAEMON_PORT$(signed $((first_id + i)))" >>"$REC_DIR/cold.txt"
done
direct_ms=$(median_ms <"$REC_DIR/direct.txt")
cold_ms=$(median_ms <"$REC_DIR/cold.txt")
limit_ms=$(awk -v d="$direct_ms" 'BEGIN { printf "%.2f", d * 1.1 + 5 }')
say "$(printf '  %-34s median TTFB %7.2f ms  (%d plays, PBX latency %d ms, %d-byte WAV)' \
	"curl straight from the fake PBX" "$direct_ms" "$REC_COLD" "$REC_LATENCY_MS" "$rec_size")"
say "$(printf '  %-34s median TTFB %7.2f ms' "ringlog-fetcherd, cold play" "$cold_ms")"
verdict "cold TTFB <= 1.1x direct + 5 ms (${cold_ms} <= ${limit_ms} ms)" "$(lt "$cold_ms" "$(awk -v l="$limit_ms" 'BEGIN {print l + 0.0001}')")"

# Warm plays: the stored recording against nginx serving the same file.
curl -s -o /dev/null "http://127.0.0.1:$DAEMON_PORT$(signed "$first_id")"
key=
for _ in $(seq 100); do
	key=$(rec_sql "SELECT blob_key FROM recordings WHERE id = $first_id AND state = 'stored'")
	[ -n "$key" ] && break
	sleep 0.1
done
cp "$REC_DIR/blobs/$(echo "$key" | cut -c1-2)/$(echo "$key" | cut -c3-4)/$key" "$REC_DIR/www/call.wav"
chmod 644 "$REC_DIR/www/call.wav"
nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$REC_DIR/nginx/logs"
cat >"$REC_DIR/nginx/nginx.conf" <<NGINX
worker_processes 2;
pid $REC_DIR/nginx/nginx.pid;
error_log $REC_DIR/nginx/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  types { audio/wav wav; }
  server { listen 127.0.0.1:$nginx_port; root $REC_DIR/www; }
}
NGINX
nginx -p "$REC_DIR/nginx" -c "$REC_DIR/nginx/nginx.conf" -g 'daemon off;' &
REC_NGINX_PID=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$nginx_port/call.wav" && break; sleep 0.1; done
warm_url="http://127.0.0.1:$DAEMON_PORT$(signed "$first_id")"
if command -v strace >/dev/null 2>&1; then
	strace -f -e trace=sendfile -p "$rec_fetcher_pid" -o "$REC_DIR/strace.txt" 2>/dev/null &
	st_pid=$!
	sleep 0.5
	curl -s -o /dev/null "$warm_url"
	sleep 0.2
	kill "$st_pid" 2>/dev/null || true
	wait "$st_pid" 2>/dev/null || true
	say "  body sent with sendfile(2): $(grep -q 'sendfile(' "$REC_DIR/strace.txt" && echo yes || echo NO)"
fi
for c in 4 16; do
	wrk_run "ringlog-fetcherd, warm play" "$c" bench/recordings.lua "$warm_url"
	eval "rl_$c=\$RPS"
	wrk_run "nginx, same file" "$c" bench/recordings.lua "http://127.0.0.1:$nginx_port/call.wav"
	eval "ng_$c=\$RPS"
done
kill "$REC_NGINX_PID" 2>/dev/null || true
wait "$REC_NGINX_PID" 2>/dev/null || true
daemon_stop
say "  warm / nginx:  c=4 $(ratio "$rl_4" "$ng_4")x  c=16 $(ratio "$rl_16" "$ng_16")x  ($(awk -v r="$rl_16" -v s="$rec_size" 'BEGIN { printf "%.0f", r * s / 1048576 }') MiB/s at c=16)"
best=$(awk -v a="$(ratio "$rl_4" "$ng_4")" -v b="$(ratio "$rl_16" "$ng_16")" 'BEGIN { print (a > b) ? a : b }')
verdict ">= 0.9x nginx on warm plays (best of c=4/16)" "$(ge "$best" 0.9)"

# Inline: a 50 MB recording pushed as base64 in JSON (~67 MB body).
python3 - "$REC_DIR/inline.json" <<'PY'
import base64, io, os, sys, wave
buf = io.BytesIO()
with wave.open(buf, "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
    w.writeframes(os.urandom(50 * 1024 * 1024 - 44))
with open(sys.argv[1], "wb") as f:
    f.write(b'{"call_id": "inline-50mb", "direction": "in", "started_at": "2025-06-16T09:20:05Z", '
            b'"recording_base64": "data:audio/wav;base64,')
    f.write(base64.encodebytes(buf.getvalue()).replace(b"\n", b"\\n"))
    f.write(b'"}')
PY
"$BENCH_BIN/ringlog" --database "$BENCH_DB" source add benchinline --auth none >/dev/null
daemon_start ringlog-ingestd "$REC_DIR/ingestd.log" --spool-dir "$REC_DIR/spool" \
	--recordings-blob-dir "$REC_DIR/blobs" --max-body 80M --recordings-max-size 64M
base_rss=$(peak_rss_mib "$DAEMON_PID")
# What the peak is made of: anonymous memory, and pages of the spilled body's
# file mapping (page cache the kernel can take back), sampled meanwhile.
( while kill -0 "$DAEMON_PID" 2>/dev/null; do
	awk '/RssAnon|RssFile/ { printf "%s %d ", $1, $2 } END { print "" }' "/proc/$DAEMON_PID/status"
	sleep 0.01
  done ) >"$REC_DIR/rss.txt" 2>/dev/null &
sampler=$!
t0=$(date +%s.%N)
code=$(curl -s -o "$REC_DIR/inline.out" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary @"$REC_DIR/inline.json" "http://127.0.0.1:$DAEMON_PORT/v1/cdr/benchinline")
t1=$(date +%s.%N)
peak=$(peak_rss_mib "$DAEMON_PID")
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
daemon_stop
anon=$(awk '{ if ($2 > a) a = $2 } END { printf "%.1f", a / 1024 }' "$REC_DIR/rss.txt")
file=$(awk '{ if ($4 > f) f = $4 } END { printf "%.1f", f / 1024 }' "$REC_DIR/rss.txt")
body_mib=$(awk -v s="$(stat -c %s "$REC_DIR/inline.json")" 'BEGIN { printf "%.1f", s / 1048576 }')
say "  inline push of 50.0 MiB audio ($body_mib MiB JSON): HTTP $code in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
say "  ringlog-ingestd peak RSS: $peak MiB (at start $base_rss MiB) = $(ratio "$peak" 50)x the audio"
say "    of which at most $anon MiB anonymous, $file MiB file-backed: the spilled body's mapping and the libraries (sampled every 10 ms)"
verdict "peak RSS < 3x the audio size (< 150 MiB)" "$(lt "$peak" 150)"
kill "$REC_PBX_PID" 2>/dev/null || true
wait "$REC_PBX_PID" 2>/dev/null || true
rm -f "$REC_DIR/inline.json"
