-- Stores one push: the end-of-call upsert as one statement, so a push costs
-- one round trip and one commit. Outcome: 'stored' (new call), 'updated'
-- (new content for a known call; the old payload becomes a revision),
-- 'duplicate' (nothing new in the payload: nothing changes), or 'ignored' (a
-- "call in progress" push arriving after the call ended: kept as a revision,
-- not applied), or 'erased' (a trigger on call_keys refused the key: the
-- call was erased and must not come back; nothing is stored).
-- ringlog-ingestd calls it through ringlog_ingest_calls(jsonb), a batch.
--
-- A re-push never erases what was known: a field the new push lacks (NULL
-- here) keeps its stored value; only a value that differs changes it. When a
-- vendor sends only durations, answered_at and ended_at are derived from the
-- start: ended = start + duration, answered = ended - billable (answered
-- calls only).
--
-- Recordings: an element with "blob" is inline audio already in the blob
-- store, stored with the call; a stored recording is never turned back into
-- a reference; a failed one starts over when its reference changes.
--
-- The lead rules (README "Leads and tasks"); the other party and the lock
-- are ringlog_other_party() and ringlog_lead_lock(), shared with the CRM
-- sync and the CLI (ringlog_upsert_leads):
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
-- (ringlog_lead_lock), taken before the call's row is written and followed
-- by a second look, so twenty simultaneous pushes from one new number make
-- one lead. The common paths (known lead, extension-only call) take no lock.
--
-- The rules' predicates (ringlog_call_missed, ringlog_call_by_agent), the
-- name of a new lead (ringlog_call_lead_name), the times (ringlog_time) and
-- the task rules (ringlog_tasks_*) each have one home, shared with the batch
-- path of ringlog_ingest_calls. Performance: the source's settings and the
-- agent mapping are read only when a rule needs them.
CREATE OR REPLACE FUNCTION ringlog_ingest_call(
    p_source_id bigint, p_pbx_call_id text, p_direction text, p_disposition text,
    p_caller text, p_caller_e164 text, p_caller_name text,
    p_callee text, p_callee_e164 text, p_did text,
    p_agent text, p_agent_name text,
    p_started_at text, p_answered_at text, p_ended_at text, p_time_zone text,
    p_duration_s integer, p_billable_s integer,
    p_recordings jsonb, p_raw jsonb, p_received_at timestamptz, p_leg_of text,
    p_transport text[] DEFAULT '{}',
    OUT call_id bigint, OUT outcome text, OUT lead_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    -- "…+00" is absolute; anything else is wall-clock time in the zone.
    v_started  timestamptz := ringlog_time(p_started_at, p_time_zone);
    v_answered timestamptz := ringlog_time(p_answered_at, p_time_zone);
    v_ended    timestamptz := ringlog_time(p_ended_at, p_time_zone);
    v_old      calls%ROWTYPE;
    v_key_started timestamptz;
    v_phone    text;    -- the other party, when the lead rules apply to it
    v_missed   boolean := ringlog_call_missed(p_direction, p_disposition);
    v_create   boolean; -- the source creates leads and tasks (read when needed)
    v_default  text;    -- its default responsible
    v_locked   boolean := false;
    v_user     text;    -- the CRM user of the agent
    v_agent_call boolean;
    v_new_lead boolean := false;
    v_unmapped boolean := false;
BEGIN
    -- Only durations sent (Voicenter, Ringostat): the times follow from them.
    v_ended := ringlog_call_ended(v_started, v_ended, p_duration_s, p_disposition);
    v_answered := ringlog_call_answered(v_started, v_answered, v_ended, p_billable_s, p_disposition);

    -- An answered or outbound call names the agent who took or made it:
    -- its CRM user (and the source's settings, in the same look-up).
    v_agent_call := ringlog_call_by_agent(p_agent, p_leg_of, p_direction, p_disposition);
    IF v_agent_call THEN
        SELECT s.create_leads, s.default_responsible, a.crm_user, a.crm_user IS NULL
          INTO v_create, v_default, v_user, v_unmapped
          FROM sources s LEFT JOIN agents a ON a.source_id = s.id AND a.extension = p_agent
         WHERE s.id = p_source_id;
    END IF;

    v_phone := ringlog_other_party(p_direction, p_caller_e164, p_callee_e164, p_leg_of);
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
                PERFORM ringlog_lead_lock(v_phone);
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
            VALUES (v_phone, ringlog_call_lead_name(p_direction, p_caller_name, v_phone),
                    coalesce(v_user, v_default), 'ringlog')
            RETURNING id INTO lead_id;
            v_new_lead := true;
        END IF;
    END IF;

    -- The call's key (sql/009): one per (source, PBX call id), whatever
    -- month its row is in.
    INSERT INTO call_keys AS k (source_id, pbx_call_id, started_at)
    VALUES (p_source_id, p_pbx_call_id, v_started)
    ON CONFLICT (source_id, pbx_call_id) DO NOTHING
    RETURNING k.call_id INTO call_id;
    IF call_id IS NULL THEN
        -- A known call: the key's row lock serialises its pushes. A key
        -- without its row (its month dropped, not yet swept) starts again.
        SELECT k.call_id, k.started_at INTO call_id, v_key_started FROM call_keys k
         WHERE k.source_id = p_source_id AND k.pbx_call_id = p_pbx_call_id
           FOR UPDATE;
        IF call_id IS NULL THEN
            -- No key inserted and none found: a BEFORE INSERT trigger on
            -- call_keys suppressed it (an erased call, tombstoned). Nothing
            -- is stored; a lead made for it above goes too.
            IF v_new_lead THEN
                DELETE FROM leads WHERE id = lead_id;
            END IF;
            lead_id := NULL;
            outcome := 'erased';
            RETURN;
        END IF;
        SELECT * INTO v_old FROM calls WHERE id = call_id AND started_at = v_key_started;
    END IF;

    IF v_old.id IS NULL THEN
        INSERT INTO calls (id, source_id, pbx_call_id, direction, disposition,
                           caller, caller_e164, caller_name, callee, callee_e164, did,
                           agent, agent_name, started_at, answered_at, ended_at,
                           duration_s, billable_s, lead_id, raw, received_at, updated_at, leg_of)
        VALUES (call_id, p_source_id, p_pbx_call_id, p_direction, p_disposition,
                p_caller, p_caller_e164, p_caller_name, p_callee, p_callee_e164, p_did,
                p_agent, p_agent_name, v_started, v_answered, v_ended,
                p_duration_s, p_billable_s, lead_id, p_raw, p_received_at, p_received_at, p_leg_of);
        outcome := 'stored';
    ELSE
        -- Nothing new: every key of the payload, but the transport ones
        -- (P_TRANSPORT: a POST's query parameters, such as FreeSWITCH's
        -- ?uuid=), holds what it held; a key it lacks is not a change. (A
        -- late "in progress" push is 'ignored' below, and kept.)
        IF v_old.raw = p_raw OR (p_disposition <> 'in_progress' AND NOT EXISTS (
               SELECT 1 FROM jsonb_each(p_raw) e
                WHERE e.key <> ALL (p_transport) AND v_old.raw->e.key IS DISTINCT FROM e.value)) THEN
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
        -- Absent (NULL) is not a change: what was known stays.
        UPDATE calls SET direction = p_direction, disposition = p_disposition,
               caller = coalesce(p_caller, v_old.caller),
               caller_e164 = coalesce(p_caller_e164, v_old.caller_e164),
               caller_name = coalesce(p_caller_name, v_old.caller_name),
               callee = coalesce(p_callee, v_old.callee),
               callee_e164 = coalesce(p_callee_e164, v_old.callee_e164),
               did = coalesce(p_did, v_old.did),
               agent = coalesce(p_agent, v_old.agent),
               agent_name = coalesce(p_agent_name, v_old.agent_name),
               started_at = v_started,
               answered_at = coalesce(v_answered, v_old.answered_at),
               ended_at = coalesce(v_ended, v_old.ended_at),
               duration_s = coalesce(p_duration_s, v_old.duration_s),
               billable_s = coalesce(p_billable_s, v_old.billable_s),
               lead_id = CASE WHEN coalesce(p_leg_of, v_old.leg_of) IS NULL
                              THEN coalesce(ringlog_ingest_call.lead_id, v_old.lead_id) END,
               raw = p_raw, revision = v_old.revision + 1, updated_at = p_received_at,
               leg_of = coalesce(p_leg_of, v_old.leg_of)
         WHERE id = v_old.id AND started_at = v_old.started_at
        RETURNING calls.lead_id INTO lead_id;
        outcome := 'updated';
    END IF;

    IF jsonb_array_length(p_recordings) > 0 THEN
        -- Inline audio ("blob") is stored; references are remote.
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

    -- The task rules (ringlog_tasks_*, shared with the batch path).
    IF v_locked AND v_missed THEN
        PERFORM ringlog_tasks_missed_open(ARRAY[lead_id], ARRAY[call_id], ARRAY[p_source_id],
                                          ARRAY[v_default], ARRAY[v_started]);
    END IF;
    -- Looked for first: a SELECT costs less than starting an UPDATE that
    -- finds nothing. Gates stay in PL/pgSQL: a boolean inside the SQL folds
    -- every custom plan to nothing, so the plan cache never settles on the
    -- generic plan and plans the statement again on every call.
    IF p_disposition = 'answered' AND lead_id IS NOT NULL
       AND EXISTS (SELECT 1 FROM tasks t
                    WHERE t.lead_id = ringlog_ingest_call.lead_id AND t.kind = 'missed_call'
                      AND t.status = 'open') THEN
        PERFORM ringlog_tasks_missed_close(ARRAY[lead_id], ARRAY[v_started]);
    END IF;
    IF v_unmapped AND v_create THEN
        PERFORM ringlog_tasks_mapping_open(ARRAY[p_source_id], ARRAY[p_agent], ARRAY[call_id],
                                           ARRAY[v_default]);
    END IF;
END
$$;
