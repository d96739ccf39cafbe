-- screenpop.lua: wrk script for screen pops, one per request, a random caller
-- among the bench's 100,000 leads (one in eleven is nobody's number).
--   MODE=ringlog KEY=secret: GET /v1/screenpop/pop?phone=05…&ivrid=…&statusCall=Ringing&key=…
--   MODE=peer:               GET /screenpop?phone=+9725…  (the reference receiver)
-- Prints a parseable WRK_RESULT line (bench/lib.sh wrk_run).
local thread_no = 0
function setup(thread)
  thread_no = thread_no + 1
  thread:set("tid", thread_no)
end

function init(args)
  math.randomseed(os.time() * 1000 + tid)
  mode = os.getenv("MODE") or "ringlog"
  key = os.getenv("KEY") or ""
  n = 0
end

function request()
  n = n + 1
  local i = math.random(0, 109999)
  if mode == "peer" then
    return wrk.format("GET", string.format("/screenpop?phone=%%2B9725%08d", i))
  end
  return wrk.format("GET", string.format(
    "/v1/screenpop/pop?phone=05%08d&ivrid=bench-%d-%d&extenUser=Rk7pQ2xL&did=0733750100&statusCall=Ringing&key=%s",
    i, tid, n, key))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f non2xx=%d connect_err=%d read_err=%d write_err=%d timeouts=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.status, e.connect, e.read, e.write, e.timeout))
end
