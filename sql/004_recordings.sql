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

-- 003's upsert (the lead rules), replaced. The only change (marked "004") is
-- the recordings block: an element with "blob" is inline audio already in
-- the blob store, stored with the call; a stored recording is never turned
-- back into a reference; a failed one starts over when its reference
-- changes. (A later migration that replaces this function starts from this
-- text: it holds both deltas.)
CREATE OR REPLACE FUNCTION ringlog_ingest_call(
    p_source_id bigint, p_pbx_call_id text, p_direction text, p_disposition text,
    p_caller text, p_caller_e164 text, p_caller_name text,
    p_callee text, p_callee_e164 text, p_did text,
    p_agent text, p_agent_name text,
    p_started_at text, p_answered_at text, p_ended_at text, p_time_zone text,
    p_duration_s integer, p_billable_s integer,
    p_recordings jsonb, p_raw jsonb, p_received_at timestamptz, p_leg_of text,
    OUT call_id bigint, OUT outcome text, OUT lead_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    -- "…+00" is absolute; anything else is wall-clock time in the zone.
    v_started  timestamptz := CASE WHEN right(p_started_at, 3) = '+00' THEN p_started_at::timestamptz
                                   ELSE p_started_at::timestamp AT TIME ZONE p_time_zone END;
    v_answered timestamptz := CASE WHEN right(p_answered_at, 3) = '+00' THEN p_answered_at::timestamptz
                                   ELSE p_answered_at::timestamp AT TIME ZONE p_time_zone END;
    v_ended    timestamptz := CASE WHEN right(p_ended_at, 3) = '+00' THEN p_ended_at::timestamptz
                                   ELSE p_ended_at::timestamp AT TIME ZONE p_time_zone END;
    v_old      calls%ROWTYPE;
    v_phone    text;    -- the other party, when the lead rules apply to it
    v_missed   boolean := p_direction = 'in' AND p_disposition NOT IN ('answered', 'in_progress');
    v_create   boolean; -- the source creates leads and tasks (read when needed)
    v_default  text;    -- its default responsible
    v_locked   boolean := false;
    v_user     text;    -- the CRM user of the agent
    v_agent_call boolean;
    v_new_lead boolean := false;
    v_unmapped boolean := false;
BEGIN
    -- An answered or outbound call names the agent who took or made it:
    -- its CRM user (and the source's settings, in the same look-up).
    v_agent_call := p_agent IS NOT NULL AND p_leg_of IS NULL AND p_direction <> 'internal'
                    AND (p_disposition = 'answered' OR (p_direction = 'out' AND p_disposition <> 'in_progress'));
    IF v_agent_call THEN
        SELECT s.create_leads, s.default_responsible, a.crm_user, a.crm_user IS NULL
          INTO v_create, v_default, v_user, v_unmapped
          FROM sources s LEFT JOIN agents a ON a.source_id = s.id AND a.extension = p_agent
         WHERE s.id = p_source_id;
    END IF;

    IF p_leg_of IS NULL THEN
        v_phone := CASE p_direction WHEN 'in' THEN p_caller_e164 WHEN 'out' THEN p_callee_e164 END;
    END IF;
    IF v_phone IS NOT NULL THEN
        SELECT l.id INTO lead_id FROM leads l
         WHERE l.phone = v_phone AND l.status = 'open' ORDER BY l.id LIMIT 1;
        -- A rule may create a lead or a task: serialised per number.
        IF p_disposition <> 'in_progress' AND (lead_id IS NULL OR v_missed) THEN
            IF v_create IS NULL THEN
                SELECT s.create_leads, s.default_responsible INTO v_create, v_default
                  FROM sources s WHERE s.id = p_source_id;
            END IF;
            IF v_create THEN
                IF txid_current_if_assigned() IS NULL THEN
                    PERFORM pg_advisory_xact_lock(v_phone::bigint);
                ELSIF NOT pg_try_advisory_xact_lock(v_phone::bigint) THEN
                    RAISE EXCEPTION 'the lead of % is being written by another transaction', v_phone
                          USING ERRCODE = 'lock_not_available';
                END IF;
                v_locked := true;
                IF lead_id IS NULL THEN
                    SELECT l.id INTO lead_id FROM leads l
                     WHERE l.phone = v_phone AND l.status = 'open' ORDER BY l.id LIMIT 1;
                END IF;
            END IF;
        END IF;
        -- A new number: its lead first, so the call row is written once.
        IF v_locked AND lead_id IS NULL THEN
            INSERT INTO leads (phone, name, responsible, origin)
            VALUES (v_phone,
                    CASE WHEN p_direction = 'in' THEN coalesce(nullif(p_caller_name, ''), '+' || v_phone)
                         ELSE '+' || v_phone END,
                    coalesce(v_user, v_default), 'ringlog')
            RETURNING id INTO lead_id;
            v_new_lead := true;
        END IF;
    END IF;

    INSERT INTO calls AS c (source_id, pbx_call_id, direction, disposition,
                            caller, caller_e164, caller_name, callee, callee_e164, did,
                            agent, agent_name, started_at, answered_at, ended_at,
                            duration_s, billable_s, lead_id, raw, received_at, updated_at, leg_of)
    VALUES (p_source_id, p_pbx_call_id, p_direction, p_disposition,
            p_caller, p_caller_e164, p_caller_name, p_callee, p_callee_e164, p_did,
            p_agent, p_agent_name, v_started, v_answered, v_ended,
            p_duration_s, p_billable_s, lead_id, p_raw, p_received_at, p_received_at, p_leg_of)
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
            IF v_new_lead THEN -- its lead was closed since: nothing changes
                DELETE FROM leads WHERE id = lead_id;
            END IF;
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
               lead_id = CASE WHEN p_leg_of IS NULL
                              THEN coalesce(ringlog_ingest_call.lead_id, v_old.lead_id) END,
               raw = p_raw, revision = v_old.revision + 1, updated_at = p_received_at,
               leg_of = p_leg_of
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

    IF v_locked AND v_missed THEN
        INSERT INTO tasks (kind, lead_id, call_id, assignee, source_id)
        SELECT 'missed_call', l.id, call_id, coalesce(l.responsible, v_default), p_source_id
          FROM leads l
         WHERE l.id = lead_id
           AND NOT EXISTS (SELECT 1 FROM tasks t
                            WHERE t.lead_id = l.id AND t.kind = 'missed_call'
                              AND (t.status = 'open' OR t.call_id = ringlog_ingest_call.call_id));
    END IF;

    -- An answered call closes the lead's earlier missed-call tasks (looked
    -- for first: a SELECT costs less than starting an UPDATE that finds
    -- nothing). Gates stay in PL/pgSQL: a boolean inside the SQL folds every
    -- custom plan to nothing, so the plan cache never settles on the generic
    -- plan and plans the statement again on every call.
    IF p_disposition = 'answered' AND lead_id IS NOT NULL
       AND EXISTS (SELECT 1 FROM tasks t
                    WHERE t.lead_id = ringlog_ingest_call.lead_id AND t.kind = 'missed_call'
                      AND t.status = 'open') THEN
        UPDATE tasks t SET status = 'done', done_at = now()
          FROM calls c
         WHERE t.lead_id = ringlog_ingest_call.lead_id AND t.kind = 'missed_call'
           AND t.status = 'open' AND c.id = t.call_id AND c.started_at <= v_started;
    END IF;

    -- An agent mapped to nobody: a settings task for the default responsible.
    IF v_unmapped AND v_create AND NOT EXISTS (
            SELECT 1 FROM tasks t
             WHERE t.source_id = p_source_id AND t.extension = p_agent
               AND t.kind = 'check_agent_mapping' AND t.status = 'open') THEN
        INSERT INTO tasks (kind, call_id, assignee, source_id, extension)
        VALUES ('check_agent_mapping', call_id, v_default, p_source_id, p_agent);
    END IF;
END
$$;
