-- Takes the lease of recording P_ID for P_OWNER (a fetcher process) for
-- P_LEASE_S seconds, counting an attempt. Nothing comes back when the row is
-- not remote, waits for a retry, or another owner's lease is running. The lease is
-- committed asynchronously: losing it in a crash only means a refetch, and
-- a cold play should not wait for a WAL flush.
CREATE OR REPLACE FUNCTION ringlog_recording_claim(p_id bigint, p_owner text, p_lease_s integer)
RETURNS TABLE (remote_ref text, remote_url text, attempts bigint, source_name text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    RETURN QUERY
    UPDATE recordings r
       SET lease_owner = p_owner, lease_until = now() + p_lease_s * interval '1 second',
           attempts = r.attempts + 1, last_attempt_at = now()
     WHERE r.id = p_id AND r.state = 'remote'
       AND (r.next_attempt_at IS NULL OR r.next_attempt_at <= now())
       AND (r.lease_until IS NULL OR r.lease_until < now() OR r.lease_owner = p_owner)
    RETURNING r.remote_ref, r.remote_url, r.attempts::bigint,
              (SELECT s.name FROM call_keys k JOIN sources s ON s.id = k.source_id
                WHERE k.call_id = r.call_id);
END
$$;
