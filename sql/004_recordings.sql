-- 004: recordings (issue 4). Inline audio is stored with its call; remote
-- recordings are fetched once however many players and fetcher processes
-- ask (a lease on the row), failures are kept and retried with backoff.

-- What went wrong with the last fetch (the codes the API answers).
CREATE DOMAIN recording_error AS text CHECK (VALUE IN (
    'upstream_auth_failed', 'upstream_rejected_ref', 'upstream_timeout', 'upstream_error',
    'upstream_not_allowed', 'upstream_not_configured', 'upstream_too_large'));

-- Nullable columns without defaults: no table rewrite.
ALTER TABLE recordings
    ADD COLUMN last_error_code recording_error,
    ADD COLUMN lease_owner text,         -- the fetcher process fetching it now ...
    ADD COLUMN lease_until timestamptz;  -- ... until then; after it, anyone may

-- Which rows use a blob (`ringlog recordings gc`; inline audio shared by calls).
CREATE INDEX recordings_blob ON recordings (blob_key) WHERE blob_key IS NOT NULL;

-- Takes the lease of recording P_ID for P_OWNER (a fetcher process) for
-- P_LEASE_S seconds, counting an attempt. Nothing comes back when the row is
-- not remote, waits for a retry, or another owner's lease is running. The lease is
-- committed asynchronously: losing it in a crash only means a refetch, and
-- a cold play should not wait for a WAL flush.
CREATE FUNCTION ringlog_recording_claim(p_id bigint, p_owner text, p_lease_s integer)
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
              (SELECT s.name FROM calls c JOIN sources s ON s.id = c.source_id
                WHERE c.id = r.call_id);
END
$$;

-- The prefetch worker's claim: up to P_LIMIT remote recordings that are due
-- (never tried, or their backoff is over) and not leased, oldest first,
-- skipping rows other workers are claiming (SKIP LOCKED) and P_SKIP (fetches
-- already running in the calling process).
CREATE FUNCTION ringlog_recordings_claim_due(p_owner text, p_lease_s integer, p_limit integer,
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
              (SELECT s.name FROM calls c JOIN sources s ON s.id = c.source_id
                WHERE c.id = r.call_id);
END
$$;

-- 002's upsert, replaced. The only change (marked "004") is the recordings
-- block: an element with "blob" is inline audio already in the blob store,
-- stored with the call; a stored recording is never turned back into a
-- reference; a failed one starts over when its reference changes.
-- (003 replaces this function too, for the lead rules: merge both deltas.)
CREATE OR REPLACE FUNCTION ringlog_ingest_call(
    p_source_id bigint, p_pbx_call_id text, p_direction text, p_disposition text,
    p_caller text, p_caller_e164 text, p_caller_name text,
    p_callee text, p_callee_e164 text, p_did text,
    p_agent text, p_agent_name text,
    p_started_at text, p_answered_at text, p_ended_at text, p_time_zone text,
    p_duration_s integer, p_billable_s integer,
    p_recordings jsonb, p_raw jsonb, p_received_at timestamptz,
    OUT call_id bigint, OUT outcome text, OUT lead_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_started  timestamptz := ringlog_time(p_started_at, p_time_zone);
    v_answered timestamptz := ringlog_time(p_answered_at, p_time_zone);
    v_ended    timestamptz := ringlog_time(p_ended_at, p_time_zone);
    v_old      calls%ROWTYPE;
BEGIN
    -- The open lead of the other party, if there is one (the oldest).
    SELECT l.id INTO lead_id FROM leads l
     WHERE l.phone = CASE p_direction WHEN 'in' THEN p_caller_e164
                                      WHEN 'out' THEN p_callee_e164 END
       AND l.status = 'open'
     ORDER BY l.id LIMIT 1;

    INSERT INTO calls AS c (source_id, pbx_call_id, direction, disposition,
                            caller, caller_e164, caller_name, callee, callee_e164, did,
                            agent, agent_name, started_at, answered_at, ended_at,
                            duration_s, billable_s, lead_id, raw, received_at, updated_at)
    VALUES (p_source_id, p_pbx_call_id, p_direction, p_disposition,
            p_caller, p_caller_e164, p_caller_name, p_callee, p_callee_e164, p_did,
            p_agent, p_agent_name, v_started, v_answered, v_ended,
            p_duration_s, p_billable_s, lead_id, p_raw, p_received_at, p_received_at)
    ON CONFLICT (source_id, pbx_call_id) DO NOTHING
    RETURNING c.id INTO call_id;

    IF call_id IS NOT NULL THEN
        outcome := 'stored';
    ELSE
        SELECT * INTO v_old FROM calls
         WHERE source_id = p_source_id AND pbx_call_id = p_pbx_call_id
           FOR UPDATE;
        call_id := v_old.id;
        IF v_old.raw = p_raw THEN
            outcome := 'duplicate';
            lead_id := v_old.lead_id;
            RETURN;
        END IF;
        IF p_disposition = 'in_progress' AND v_old.disposition <> 'in_progress' THEN
            INSERT INTO call_revisions (call_id, revision, kind, raw, received_at)
            VALUES (v_old.id, v_old.revision, 'ignored', p_raw, p_received_at);
            outcome := 'ignored';
            lead_id := v_old.lead_id;
            RETURN;
        END IF;
        INSERT INTO call_revisions (call_id, revision, kind, raw, received_at)
        VALUES (v_old.id, v_old.revision, 'replaced', v_old.raw, v_old.updated_at);
        UPDATE calls SET direction = p_direction, disposition = p_disposition,
               caller = p_caller, caller_e164 = p_caller_e164, caller_name = p_caller_name,
               callee = p_callee, callee_e164 = p_callee_e164, did = p_did,
               agent = p_agent, agent_name = p_agent_name,
               started_at = v_started, answered_at = v_answered, ended_at = v_ended,
               duration_s = p_duration_s, billable_s = p_billable_s,
               lead_id = coalesce(ringlog_ingest_call.lead_id, v_old.lead_id),
               raw = p_raw, revision = v_old.revision + 1, updated_at = p_received_at
         WHERE id = v_old.id
        RETURNING calls.lead_id INTO lead_id;
        outcome := 'updated';
    END IF;

    IF jsonb_array_length(p_recordings) > 0 THEN
        -- 004: inline audio ("blob") is stored; references are remote.
        INSERT INTO recordings AS r (call_id, position, state, remote_ref, remote_url,
                                     blob_key, sha256, size_bytes, mime_type, stored_at)
        SELECT ringlog_ingest_call.call_id, e.ord - 1,
               CASE WHEN e.rec ? 'blob' THEN 'stored' ELSE 'remote' END,
               e.rec->>'ref', e.rec->>'url', e.rec->>'blob', decode(e.rec->>'blob', 'hex'),
               (e.rec->>'size')::bigint, e.rec->>'mime',
               CASE WHEN e.rec ? 'blob' THEN now() END
          FROM jsonb_array_elements(p_recordings) WITH ORDINALITY AS e(rec, ord)
        ON CONFLICT ON CONSTRAINT recordings_call_id_position_key DO UPDATE
           SET state = EXCLUDED.state, remote_ref = EXCLUDED.remote_ref,
               remote_url = EXCLUDED.remote_url, blob_key = EXCLUDED.blob_key,
               sha256 = EXCLUDED.sha256, size_bytes = EXCLUDED.size_bytes,
               mime_type = EXCLUDED.mime_type, stored_at = EXCLUDED.stored_at,
               attempts = 0, last_error = NULL, last_error_code = NULL, next_attempt_at = NULL
         WHERE CASE WHEN EXCLUDED.state = 'stored'
                    THEN r.blob_key IS DISTINCT FROM EXCLUDED.blob_key
                    ELSE r.state <> 'stored'
                         AND (r.remote_ref, r.remote_url)
                             IS DISTINCT FROM (EXCLUDED.remote_ref, EXCLUDED.remote_url)
               END;
    END IF;
END
$$;
