-- 003: leads, agents and tasks. The lead rules run inside the one-statement
-- ingest; FreeSWITCH's other legs are kept apart; screen-pop events of calls
-- in progress are recorded for a live view.

-- Screen pop of an unknown caller: the CRM's "new contact" page, with
-- {phone} (as the PBX sent it) and {e164} replaced.
ALTER TABLE sources ADD COLUMN crm_new_url_template text;

-- Another leg of a call (FreeSWITCH posts one CDR per channel leg): the PBX
-- call id of the call it belongs to. A leg is stored, never linked to a lead
-- and never the subject of a task.
ALTER TABLE calls ADD COLUMN leg_of pbx_call_id;
CREATE INDEX calls_leg_of ON calls (source_id, leg_of) WHERE leg_of IS NOT NULL;

-- Smart forwarding: a CRM user's extension on a source.
CREATE INDEX agents_crm_user ON agents (source_id, crm_user);

-- The source and extension a check_agent_mapping task is about.
ALTER TABLE tasks ADD COLUMN source_id bigint REFERENCES sources (id) ON DELETE CASCADE,
                  ADD COLUMN extension text;
-- A lead's missed-call tasks: one open at a time, closed by an answered call.
CREATE INDEX tasks_missed_call ON tasks (lead_id, call_id) WHERE kind = 'missed_call';
CREATE INDEX tasks_agent_mapping ON tasks (source_id, extension)
    WHERE kind = 'check_agent_mapping' AND status = 'open';

-- What screen pops and ringing stations tell about calls in progress
-- (Voicenter's Ringing once per ringing station, Talking, Hangup), for a
-- live view of calls (GET /v1/calls/live). Ringing creates nothing else.
-- ringlog-ingestd answers the screen pop first and writes its events in
-- batches (every 200 ms, one statement), so they cost the look-up nothing.
-- UNLOGGED: no WAL is written, so recording events never waits for a WAL
-- flush; a crash empties the table, which a live view can bear. No foreign
-- key: its check would lock the source's row on every batch. ringlog-ingestd
-- deletes events older than [ingest] events_keep.
CREATE UNLOGGED TABLE call_events (
    source_id   bigint NOT NULL,
    pbx_call_id text,                        -- Voicenter's ivrid
    status      text NOT NULL,               -- ringing, talking, hangup, … (lower case)
    phone       text,                        -- the caller as sent
    phone_e164  text,
    caller_name text,
    agent       text,                        -- the station asked (extenUser)
    did         text,
    direction   text,
    lead_id     bigint,                      -- the lead the screen pop showed
    at          timestamptz NOT NULL         -- when the screen pop arrived
);
CREATE INDEX call_events_call ON call_events (source_id, pbx_call_id, at);
CREATE INDEX call_events_at ON call_events USING brin (at);

-- The ingest function, now with the lead rules (README "Leads and tasks"):
--
-- * The other party is the caller of an inbound call, the callee of an
--   outbound one, when it is a public number; internal calls and legs have
--   none. A call with an open lead of that number is linked to the oldest.
-- * When the source creates leads (sources.create_leads) and the call is not
--   in progress: no open lead -> one is created, named by the caller's name
--   or the number, responsible = the CRM user of the agent who answered or
--   dialled, else the source's default responsible. An inbound call not
--   answered opens a missed-call task for the lead's responsible (default
--   responsible when none), one open task per lead. An answered or outbound
--   call whose extension is mapped to nobody opens a check_agent_mapping task
--   for the default responsible (one open per extension).
-- * An answered call closes the lead's open missed-call tasks of earlier
--   calls, whichever source it came from.
--
-- Locking: creating a lead or a missed-call task is serialised per number
-- with pg_advisory_xact_lock(E.164 digits as bigint; < 10^15, a key range no
-- other lock of ringlog uses), taken before the call's row is written and
-- followed by a second look, so twenty simultaneous pushes from one new
-- number make one lead. A writer commits several pushes in one transaction
-- (group commit), and waiting there for a second lock while holding the
-- first could deadlock with another batch. So only the first statement of a
-- transaction (it holds nothing yet: txid_current_if_assigned() is NULL)
-- waits; a later one only tries, and when the number is busy it fails the
-- batch with lock_not_available (55P03), which makes the writer store the
-- batch's pushes one by one, each then first in its own transaction. The
-- common paths (known lead, extension-only call) take no lock.
--
-- Performance: no SQL-language helpers are called (they are planned again on
-- every call from PL/pgSQL; ringlog_time() is inlined below), the source's
-- settings and the agent mapping are read only when a rule needs them.
DROP FUNCTION ringlog_ingest_call(bigint, text, text, text, text, text, text, text, text, text,
                                  text, text, text, text, text, text, integer, integer,
                                  jsonb, jsonb, timestamptz);

CREATE FUNCTION ringlog_ingest_call(
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
        INSERT INTO recordings AS r (call_id, position, state, remote_ref, remote_url)
        SELECT ringlog_ingest_call.call_id, e.ord - 1, 'remote', e.rec->>'ref', e.rec->>'url'
          FROM jsonb_array_elements(p_recordings) WITH ORDINALITY AS e(rec, ord)
        ON CONFLICT ON CONSTRAINT recordings_call_id_position_key DO UPDATE
           SET remote_ref = EXCLUDED.remote_ref, remote_url = EXCLUDED.remote_url
         WHERE r.state = 'remote'
           AND (r.remote_ref, r.remote_url) IS DISTINCT FROM (EXCLUDED.remote_ref, EXCLUDED.remote_url);
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
