-- The prefetch worker's claim: up to P_LIMIT remote recordings that are due
-- (never tried, or their backoff is over) and not leased, oldest first,
-- skipping rows other workers are claiming (SKIP LOCKED) and P_SKIP (fetches
-- already running in the calling process).
CREATE OR REPLACE FUNCTION ringlog_recordings_claim_due(p_owner text, p_lease_s integer, p_limit integer,
                                             p_skip bigint[])
RETURNS TABLE (id bigint, remote_ref text, remote_url text, attempts bigint, source_name text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    RETURN QUERY
    WITH due AS (
        SELECT r.id FROM recordings r
         WHERE r.state = 'remote'
           AND (r.next_attempt_at IS NULL OR r.next_attempt_at <= now())
           AND (r.lease_until IS NULL OR r.lease_until < now())
           AND r.id <> ALL (p_skip)
         ORDER BY r.next_attempt_at NULLS FIRST, r.id
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED)
    UPDATE recordings r
       SET lease_owner = p_owner, lease_until = now() + p_lease_s * interval '1 second',
           attempts = r.attempts + 1, last_attempt_at = now()
      FROM due
     WHERE r.id = due.id
    RETURNING r.id, r.remote_ref, r.remote_url, r.attempts::bigint,
              (SELECT s.name FROM call_keys k JOIN sources s ON s.id = k.source_id
                WHERE k.call_id = r.call_id);
END
$$;
