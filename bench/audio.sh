# Audio at store time and recordings in S3: transcoding one hour of each
# telephone codec on one core (× real time, peak memory), the disk an hour
# of calls takes per store_format, and a cold play from S3 (s3rver on
# loopback) against a signed GET straight from the same server.
#   bench/run audio      (AUDIO_HOURS=1, S3_PLAYS=60)

say "== audio: store-time transcoding, disk per hour, S3 cold plays =="
AU_DIR=$BENCH_WORK/audio
rm -rf "$AU_DIR"
mkdir -p "$AU_DIR/blobs"
chmod 755 "$AU_DIR"
AUDIO_HOURS=${AUDIO_HOURS:-1}
S3_PLAYS=${S3_PLAYS:-60}
AU_BIN=$(dirname "$BENCH_BIN")/bench/audio-transcode

# One hour of 8 kHz mono "speech" (tones under a syllable-rate envelope,
# with noise), written by libsndfile in each codec a PBX sends.
python3 - "$AU_DIR" "$AUDIO_HOURS" <<'PY'
import ctypes, math, os, random, sys
sys.path.insert(0, "tests/integration")
import audio_codecs as ac
out, hours = sys.argv[1], float(sys.argv[2])
rate, chunk_s = 8000, 10
rnd = random.Random(1)
chunk = []
for i in range(rate * chunk_s):
    t = i / rate
    env = 0.5 + 0.5 * math.sin(2 * math.pi * 3.1 * t)
    v = env * (4000 * math.sin(2 * math.pi * 180 * t) + 2500 * math.sin(2 * math.pi * 720 * t)
               + 1200 * math.sin(2 * math.pi * 1900 * t)) + rnd.gauss(0, 300)
    chunk.append(max(-32768, min(32767, int(v))))
buf = (ctypes.c_short * len(chunk))(*chunk)
for name, fmt in (("pcm", ac.WAV | ac.PCM_16), ("gsm", ac.WAV | ac.GSM610), ("ulaw", ac.WAV | ac.ULAW),
                  ("ima", ac.WAV | ac.IMA_ADPCM)):
    info = ac.SF_INFO(0, rate, 1, fmt, 0, 0)
    h = ac._sf.sf_open(os.path.join(out, name + ".wav").encode(), ac.SFM_WRITE, ctypes.byref(info))
    for _ in range(int(hours * 3600 / chunk_s)):
        ac._sf.sf_writef_short(h, buf, len(chunk))
    ac._sf.sf_close(h)
PY
mb_per_hour() { awk -v b="$1" -v h="$AUDIO_HOURS" 'BEGIN { printf "%.1f", b / 1e6 / h }'; }
field() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
say "  transcoding ${AUDIO_HOURS} h of 8 kHz mono, one core (taskset -c 0):"
for in in pcm gsm ulaw ima; do
	for to in mp3 opus; do
		j=$(taskset -c 0 "$AU_BIN" "$AU_DIR/$in.wav" "$AU_DIR/$in.$to" "$to")
		say "$(printf '    %-4s WAV -> %-4s %7.1fx real time  peak RSS %5.1f MiB  %6s MB/h in, %5s MB/h out' \
			"$in" "$to" "$(field "$j" x_realtime)" "$(awk -v k="$(field "$j" peak_rss_kib)" 'BEGIN { print k / 1024 }')" \
			"$(mb_per_hour "$(field "$j" bytes_in)")" "$(mb_per_hour "$(field "$j" bytes_out)")")"
		eval "out_${in}_${to}=$(field "$j" bytes_out)"
		eval "x_${in}_${to}=$(field "$j" x_realtime)"
	done
done
pcm=$(stat -c %s "$AU_DIR/pcm.wav")
say "  disk per hour of calls: original $(mb_per_hour "$pcm") MB (8 kHz PCM WAV, kept) / $(mb_per_hour "$out_gsm_mp3") MB (GSM WAV, stored as MP3);" \
	"mp3 $(mb_per_hour "$out_pcm_mp3") MB; opus $(mb_per_hour "$out_pcm_opus") MB"
slowest=$(printf '%s\n' "$x_pcm_mp3" "$x_gsm_mp3" "$x_ulaw_mp3" "$x_ima_mp3" "$x_pcm_opus" "$x_gsm_opus" | sort -n | head -1)
verdict "transcoding faster than real time on one core (slowest ${slowest}x)" "$(ge "$slowest" 10)"

# S3: s3rver on loopback; one recording moved into it; cold plays through
# ringlog-fetcherd (every play opens the object afresh: ringlog keeps no
# cache) against curl's own SigV4-signed GET of the same object.
[ -d tests/s3/node_modules/s3rver ] || (cd tests/s3 && npm ci --silent --no-audit --no-fund) >/dev/null 2>&1
node tests/s3/server.mjs "$AU_DIR/s3" "$AU_DIR/s3.log" recordings >"$AU_DIR/s3.out" 2>&1 &
AU_S3_PID=$!
for _ in $(seq 100); do grep -q '^{' "$AU_DIR/s3.out" && break; sleep 0.1; done
s3_port=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["direct"])' "$AU_DIR/s3.out" 2>/dev/null)
if [ -z "$s3_port" ]; then
	say "  (s3rver did not start: $(tail -2 "$AU_DIR/s3.out"))"
	return 0
fi
printf 'aws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n' >"$AU_DIR/s3-credentials"
export RINGLOG_RECORDINGS_STORE=s3 RINGLOG_RECORDINGS_S3_ENDPOINT=http://127.0.0.1:$s3_port \
	RINGLOG_RECORDINGS_S3_BUCKET=recordings RINGLOG_RECORDINGS_S3_CREDENTIALS_FILE=$AU_DIR/s3-credentials \
	RINGLOG_RECORDINGS_BLOB_DIR=$AU_DIR/blobs
head -c 2880044 "$AU_DIR/pcm.wav" >"$AU_DIR/call.wav"   # a three-minute call
key=$(sha256sum "$AU_DIR/call.wav" | cut -c1-64)
mkdir -p "$AU_DIR/blobs/$(echo "$key" | cut -c1-2)/$(echo "$key" | cut -c3-4)"
cp "$AU_DIR/call.wav" "$AU_DIR/blobs/$(echo "$key" | cut -c1-2)/$(echo "$key" | cut -c3-4)/$key"
"$BENCH_BIN/ringlog" --database "$BENCH_DB" source add benchs3 --auth none >/dev/null 2>&1 || true
# The call first: its key (call_keys, what recordings refer to) is made by a
# trigger at the end of its statement.
psql "$BENCH_DB" -q -c "INSERT INTO calls (source_id, pbx_call_id, direction, disposition, started_at, raw)
  SELECT id, 'bench-s3', 'in', 'answered', now(), '{}' FROM sources WHERE name = 'benchs3'"
rid=$(psql "$BENCH_DB" -qAt -c "INSERT INTO recordings (call_id, position, state, blob_key, sha256, size_bytes,
  mime_type, stored_at)
  SELECT c.id, 0, 'stored', '$key', decode('$key', 'hex'), 2880044, 'audio/wav', now()
    FROM calls c JOIN sources s ON s.id = c.source_id WHERE s.name = 'benchs3' AND c.pbx_call_id = 'bench-s3'
  RETURNING id" | head -1)
"$BENCH_BIN/ringlog" --database "$BENCH_DB" recordings move --to s3 --quiet
head -c 32 /dev/urandom | base64 >"$AU_DIR/signing.key"
daemon_start ringlog-fetcherd "$AU_DIR/fetcherd.log" --signing-key-file "$AU_DIR/signing.key"
unset RINGLOG_RECORDINGS_STORE RINGLOG_RECORDINGS_S3_ENDPOINT RINGLOG_RECORDINGS_S3_BUCKET \
	RINGLOG_RECORDINGS_S3_CREDENTIALS_FILE RINGLOG_RECORDINGS_BLOB_DIR
play=$(python3 -c 'import hmac, hashlib, sys, time
key = open(sys.argv[1], "rb").read(); rid = sys.argv[2]; exp = int(time.time()) + 3600
sig = hmac.new(key, f"recording:{rid}:{exp}".encode(), hashlib.sha256).hexdigest()
print(f"/v1/recordings/{rid}?expires={exp}&sig={sig}")' "$AU_DIR/signing.key" "$rid")
s3ttfb() { curl -s -o /dev/null -w '%{time_starttransfer} %{http_code}\n' "$@"; }
med() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)] * 1000}'; }
for _ in $(seq 10); do curl -s -o /dev/null "http://127.0.0.1:$DAEMON_PORT$play"; done   # connections, statements
: >"$AU_DIR/direct.txt"
: >"$AU_DIR/cold.txt"
for _ in $(seq "$S3_PLAYS"); do
	s3ttfb --aws-sigv4 aws:amz:us-east-1:s3 --user S3RVER:S3RVER \
		-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
		"http://127.0.0.1:$s3_port/recordings/$key" >>"$AU_DIR/direct.txt"
	s3ttfb "http://127.0.0.1:$DAEMON_PORT$play" >>"$AU_DIR/cold.txt"
done
code=$(curl -s -o "$AU_DIR/played.wav" -w '%{http_code}' "http://127.0.0.1:$DAEMON_PORT$play")
daemon_stop
kill "$AU_S3_PID" 2>/dev/null || true
wait "$AU_S3_PID" 2>/dev/null || true
bad=$(awk '$2 != 200' "$AU_DIR/direct.txt" "$AU_DIR/cold.txt" | wc -l)
[ "$bad" = 0 ] || say "  ($bad plays were not 200: the figures below mean nothing)"
direct_ms=$(awk '{print $1}' "$AU_DIR/direct.txt" | med)
cold_ms=$(awk '{print $1}' "$AU_DIR/cold.txt" | med)
limit_ms=$(awk -v d="$direct_ms" 'BEGIN { printf "%.2f", d * 1.1 + 5 }')
say "$(printf '  %-40s median TTFB %7.2f ms  (%d plays, 2880044-byte WAV)' "curl, SigV4 GET straight from s3rver" "$direct_ms" "$S3_PLAYS")"
say "$(printf '  %-40s median TTFB %7.2f ms  (last play: %s, %s)' "ringlog-fetcherd, play from S3" "$cold_ms" "$code" \
	"$(cmp -s "$AU_DIR/played.wav" "$AU_DIR/call.wav" && echo same bytes || echo DIFFERENT BYTES)")"
# A play that failed measures nothing: the target is missed then.
verdict "S3 cold TTFB <= 1.1x direct + 5 ms (${cold_ms} <= ${limit_ms} ms)" \
	"$([ "$bad" = 0 ] && [ "$code" = 200 ] && lt "$cold_ms" "$(awk -v l="$limit_ms" 'BEGIN {print l + 0.0001}')" || echo 0)"
