-- 002: the end-of-call upsert as one statement, so a push costs one round
-- trip and one commit (the durable path's rate is that of single INSERTs).

-- A time from the daemon: "…+00" is absolute, anything else is wall-clock
-- time in ZONE (PostgreSQL's zone database settles DST).
CREATE FUNCTION ringlog_time(t text, zone text) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN t IS NULL THEN NULL
        WHEN right(t, 3) = '+00' THEN t::timestamptz
        ELSE t::timestamp AT TIME ZONE zone
    END
$$;

-- Stores one push. Outcome: 'stored' (new call), 'updated' (new content for
-- a known call; the old payload becomes a revision), 'duplicate' (same
-- content again: nothing changes), or 'ignored' (a "call in progress" push
-- arriving after the call ended: kept as a revision, not applied).
CREATE FUNCTION ringlog_ingest_call(
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
        INSERT INTO recordings AS r (call_id, position, state, remote_ref, remote_url)
        SELECT ringlog_ingest_call.call_id, e.ord - 1, 'remote', e.rec->>'ref', e.rec->>'url'
          FROM jsonb_array_elements(p_recordings) WITH ORDINALITY AS e(rec, ord)
        ON CONFLICT ON CONSTRAINT recordings_call_id_position_key DO UPDATE
           SET remote_ref = EXCLUDED.remote_ref, remote_url = EXCLUDED.remote_url
         WHERE r.state = 'remote'
           AND (r.remote_ref, r.remote_url) IS DISTINCT FROM (EXCLUDED.remote_ref, EXCLUDED.remote_url);
    END IF;
END
$$;
