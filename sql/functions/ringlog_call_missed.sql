-- A missed call, the call that opens a missed-call task: inbound, and
-- neither answered nor still in progress (busy, no answer, failed...).
-- Both ingest paths ask this function (inlined: it costs nothing).
CREATE OR REPLACE FUNCTION ringlog_call_missed(p_direction text, p_disposition text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p_direction = 'in' AND p_disposition NOT IN ('answered', 'in_progress')
$$;
