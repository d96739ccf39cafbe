-- Stores a batch of pushes: the one typed entry point ringlog-ingestd and
-- the CLI use (lib/push_store.c). P_BATCH is a JSON array; element i is one
-- push mapped to the canonical call:
--
--   {"source_id": 1, "call_id": "…", "direction": "in", "disposition": …,
--    "caller", "caller_e164", "caller_name", "callee", "callee_e164", "did",
--    "agent", "agent_name", "started_at", "answered_at", "ended_at" (text,
--    "…+00" absolute, else wall-clock time in "time_zone"), "duration_s",
--    "billable_s" (integers), "recordings" (array), "raw" (the payload
--    object), "received_at", "leg_of", "transport" (array of key names)}
--
-- "origin": "reconcile" marks a record pulled from the PBX's call log
-- (issue 15): a call already known is a duplicate and nothing of it
-- changes (a pull never erases what a richer push stored); a new one is
-- stored as a push would be, with calls.origin = 'reconcile', and counted
-- in reconcile_state.filled (ringlog_reconcile_filled) in this transaction.
--
-- A key that is absent or null is SQL NULL. One row comes back per element,
-- "idx" its 1-based position, with the call's id and the outcome (see
-- ringlog_ingest_call: stored, updated, duplicate, ignored, erased).
--
-- Set-based: the batch is copied into a staging relation (a temp table per
-- session, emptied at commit), and its new calls (no key yet; the only push
-- of their call in the batch: the common case) are stored by a fixed number
-- of statements whatever their number: keys, leads of new numbers (one per
-- number), calls, recordings, tasks, each one statement. The
-- rules are ringlog_ingest_call's, from the same homes (ringlog_time,
-- ringlog_call_*, ringlog_tasks_*): the per-number lock (ringlog_lead_lock)
-- is taken for every number whose rule may create a lead or a task, in
-- ascending order and before anything is written, then the leads are read
-- again. Calls of one number in a batch are taken in the order they
-- started, whatever order they came in (so are calls one by one: see
-- ringlog_tasks_missed_open): an answered call closes the tasks of the
-- missed calls before it; the latest missed call opens the lead's task. The other elements -- a re-push, a call
-- twice in the batch, a key another transaction raced or a trigger refused
-- (an erased call) -- go through ringlog_ingest_call one by one, in batch
-- order, after the new calls (they share no call with them), so two pushes
-- of one call in a batch are one call and a revision, as if sent one after
-- the other. A statement error fails the batch: the caller then
-- sends its pushes one by one so that one bad push fails alone.
CREATE OR REPLACE FUNCTION ringlog_ingest_calls(p_batch jsonb)
RETURNS TABLE (idx integer, call_id bigint, outcome text)
LANGUAGE plpgsql AS $$
DECLARE
    s record;
    r record;
    j jsonb;
BEGIN
    -- One push (the spool's drain, a replay, a quiet moment): the one-push
    -- function straight away costs less than staging it.
    IF jsonb_array_length(p_batch) = 1 THEN
        j := p_batch->0;
        idx := 1;
        IF j->>'origin' = 'reconcile' THEN
            SELECT k.call_id INTO call_id FROM call_keys k
             WHERE k.source_id = (j->>'source_id')::bigint AND k.pbx_call_id = j->>'call_id';
            IF FOUND THEN
                outcome := 'duplicate';
                RETURN NEXT;
                RETURN;
            END IF;
        END IF;
        SELECT * INTO r FROM ringlog_ingest_call(
            (j->>'source_id')::bigint, j->>'call_id', j->>'direction', j->>'disposition',
            j->>'caller', j->>'caller_e164', j->>'caller_name',
            j->>'callee', j->>'callee_e164', j->>'did', j->>'agent', j->>'agent_name',
            j->>'started_at', j->>'answered_at', j->>'ended_at', j->>'time_zone',
            (j->>'duration_s')::integer, (j->>'billable_s')::integer,
            coalesce(j->'recordings', '[]'), j->'raw', (j->>'received_at')::timestamptz,
            j->>'leg_of', coalesce(ARRAY(SELECT jsonb_array_elements_text(j->'transport')), '{}'));
        call_id := r.call_id;
        outcome := r.outcome;
        IF j->>'origin' = 'reconcile' AND outcome = 'stored' THEN
            UPDATE calls c SET origin = 'reconcile' WHERE c.id = r.call_id;
            PERFORM ringlog_reconcile_filled((j->>'source_id')::bigint, 1);
        END IF;
        RETURN NEXT;
        RETURN;
    END IF;

    -- The staging relation: one per session, emptied at commit.
    IF to_regclass('pg_temp.ringlog_stage') IS NULL THEN
        CREATE TEMP TABLE ringlog_stage (
            idx integer, source_id bigint, pbx_call_id text, direction text, disposition text,
            caller text, caller_e164 text, caller_name text, callee text, callee_e164 text,
            did text, agent text, agent_name text,
            started_text text, answered_text text, ended_text text, time_zone text,
            started timestamptz, answered timestamptz, ended timestamptz,
            duration_s integer, billable_s integer, recordings jsonb, raw jsonb,
            received_at timestamptz, leg_of text, transport text[], pulled boolean,
            phone text, missed boolean, agent_call boolean,
            fast boolean NOT NULL DEFAULT false, locked boolean NOT NULL DEFAULT false,
            create_leads boolean, default_resp text, agent_user text, unmapped boolean,
            key_id bigint, lead_id bigint
        ) ON COMMIT DELETE ROWS;
    ELSE
        DELETE FROM ringlog_stage; -- an earlier batch of this transaction
    END IF;

    -- Everything a rule needs, in one pass: the times (as ringlog_ingest_call:
    -- "…+00" is absolute, anything else wall-clock time in the zone; only
    -- durations sent: derived), the source's settings, the agent's CRM
    -- user, the open lead of the number. Fast: a new call (no key yet), the
    -- only push of its call in the batch; the others go one by one, in
    -- order, through ringlog_ingest_call (below).
    INSERT INTO ringlog_stage (idx, source_id, pbx_call_id, direction, disposition, caller,
        caller_e164, caller_name, callee, callee_e164, did, agent, agent_name,
        started_text, answered_text, ended_text, time_zone, started, answered, ended,
        duration_s, billable_s, recordings, raw, received_at, leg_of, transport, pulled,
        phone, missed, agent_call, fast, create_leads, default_resp, agent_user, unmapped, lead_id)
    SELECT b.ord, b.source_id, b.pbx_call_id, b.direction, b.disposition, b.caller,
           b.caller_e164, b.caller_name, b.callee, b.callee_e164, b.did, b.agent, b.agent_name,
           b.started_text, b.answered_text, b.ended_text, b.time_zone, t.started,
           ringlog_call_answered(t.started, t.answered, t.ended2, b.billable_s, b.disposition),
           t.ended2, b.duration_s, b.billable_s, b.recordings, b.raw, b.received_at, b.leg_of,
           b.transport, b.pulled, b.phone, b.missed, b.agent_call, b.fast,
           so.create_leads, so.default_responsible,
           CASE WHEN b.agent_call THEN a.crm_user END, b.agent_call AND a.crm_user IS NULL,
           CASE WHEN b.fast AND b.phone IS NOT NULL THEN
                (SELECT l.id FROM leads l WHERE l.phone = b.phone AND l.status = 'open'
                  ORDER BY l.id LIMIT 1) END
      FROM (SELECT e.*, count(*) OVER (PARTITION BY e.source_id, e.pbx_call_id) = 1
                        AND NOT EXISTS (SELECT 1 FROM call_keys k WHERE k.source_id = e.source_id
                                                                   AND k.pbx_call_id = e.pbx_call_id)
                        AS fast
              FROM (SELECT x.ord, (x.j->>'source_id')::bigint AS source_id, x.j->>'call_id' AS pbx_call_id,
                           x.j->>'direction' AS direction, x.j->>'disposition' AS disposition,
                           x.j->>'caller' AS caller, x.j->>'caller_e164' AS caller_e164,
                           x.j->>'caller_name' AS caller_name, x.j->>'callee' AS callee,
                           x.j->>'callee_e164' AS callee_e164, x.j->>'did' AS did, x.j->>'agent' AS agent,
                           x.j->>'agent_name' AS agent_name, x.j->>'started_at' AS started_text,
                           x.j->>'answered_at' AS answered_text, x.j->>'ended_at' AS ended_text,
                           x.j->>'time_zone' AS time_zone, (x.j->>'duration_s')::integer AS duration_s,
                           (x.j->>'billable_s')::integer AS billable_s,
                           coalesce(x.j->'recordings', '[]') AS recordings, x.j->'raw' AS raw,
                           (x.j->>'received_at')::timestamptz AS received_at, x.j->>'leg_of' AS leg_of,
                           coalesce(ARRAY(SELECT jsonb_array_elements_text(x.j->'transport')), '{}') AS transport,
                           coalesce(x.j->>'origin' = 'reconcile', false) AS pulled,
                           ringlog_other_party(x.j->>'direction', x.j->>'caller_e164',
                                               x.j->>'callee_e164', x.j->>'leg_of') AS phone,
                           ringlog_call_missed(x.j->>'direction', x.j->>'disposition') AS missed,
                           ringlog_call_by_agent(x.j->>'agent', x.j->>'leg_of', x.j->>'direction',
                                                 x.j->>'disposition') AS agent_call
                      FROM jsonb_array_elements(p_batch) WITH ORDINALITY AS x(j, ord)) e) b
      LEFT JOIN sources so ON b.fast AND so.id = b.source_id
      LEFT JOIN agents a ON b.agent_call AND b.fast AND a.source_id = b.source_id AND a.extension = b.agent
      -- (OFFSET 0: each time is computed once, so ringlog_call_ended and
      -- ringlog_call_answered get plain values and stay inlined.)
      CROSS JOIN LATERAL (
          SELECT CASE WHEN b.fast THEN ringlog_time(b.started_text, b.time_zone) END AS started,
                 CASE WHEN b.fast THEN ringlog_time(b.answered_text, b.time_zone) END AS answered,
                 CASE WHEN b.fast THEN ringlog_time(b.ended_text, b.time_zone) END AS ended
          OFFSET 0) t0
      CROSS JOIN LATERAL (
          SELECT t0.started, t0.answered,
                 ringlog_call_ended(t0.started, t0.ended, b.duration_s, b.disposition) AS ended2
          OFFSET 0) t;

    IF EXISTS (SELECT 1 FROM ringlog_stage st WHERE st.fast) THEN
        -- A rule that may create a lead or a task takes the number's lock
        -- first, before anything is written, every number of the batch in
        -- ascending order (as ringlog_upsert_leads), then looks again.
        UPDATE ringlog_stage SET locked = true
         WHERE fast AND phone IS NOT NULL AND disposition <> 'in_progress'
           AND (lead_id IS NULL OR missed) AND create_leads;
        PERFORM ringlog_lead_lock(x.phone, true)
           FROM (SELECT DISTINCT st.phone FROM ringlog_stage st WHERE st.locked ORDER BY st.phone) x;
        UPDATE ringlog_stage st SET lead_id = (SELECT l.id FROM leads l
                                                WHERE l.phone = st.phone AND l.status = 'open'
                                                ORDER BY l.id LIMIT 1)
         WHERE st.locked AND st.lead_id IS NULL;

        -- The keys. One not inserted was raced by another transaction or
        -- refused by a trigger (an erased call): one by one below.
        WITH k AS (
            INSERT INTO call_keys AS k (source_id, pbx_call_id, started_at)
            SELECT st.source_id, st.pbx_call_id, st.started FROM ringlog_stage st
             WHERE st.fast ORDER BY st.idx
            ON CONFLICT (source_id, pbx_call_id) DO NOTHING
            RETURNING k.source_id, k.pbx_call_id, k.call_id)
        UPDATE ringlog_stage st SET key_id = k.call_id
          FROM k WHERE st.source_id = k.source_id AND st.pbx_call_id = k.pbx_call_id;
        UPDATE ringlog_stage SET fast = false WHERE fast AND key_id IS NULL;

        -- New numbers: their leads, one each, as its first push in the batch
        -- names it; every new call of the number is linked to it.
        WITH nl AS (
            INSERT INTO leads (phone, name, responsible, origin)
            SELECT DISTINCT ON (st.phone)
                   st.phone, ringlog_call_lead_name(st.direction, st.caller_name, st.phone),
                   coalesce(st.agent_user, st.default_resp), 'ringlog'
              FROM ringlog_stage st WHERE st.fast AND st.locked AND st.lead_id IS NULL
             ORDER BY st.phone, st.idx
            RETURNING id, phone)
        UPDATE ringlog_stage st SET lead_id = nl.id
          FROM nl WHERE st.fast AND st.lead_id IS NULL AND st.phone = nl.phone;

        INSERT INTO calls (id, source_id, pbx_call_id, direction, disposition,
                           caller, caller_e164, caller_name, callee, callee_e164, did,
                           agent, agent_name, started_at, answered_at, ended_at,
                           duration_s, billable_s, lead_id, raw, received_at, updated_at, leg_of,
                           origin)
        SELECT st.key_id, st.source_id, st.pbx_call_id, st.direction, st.disposition,
               st.caller, st.caller_e164, st.caller_name, st.callee, st.callee_e164, st.did,
               st.agent, st.agent_name, st.started, st.answered, st.ended,
               st.duration_s, st.billable_s, st.lead_id, st.raw, st.received_at, st.received_at,
               st.leg_of, CASE WHEN st.pulled THEN 'reconcile' ELSE 'push' END
          FROM ringlog_stage st WHERE st.fast ORDER BY st.idx;
        PERFORM ringlog_reconcile_filled(st.source_id, count(*))
           FROM ringlog_stage st WHERE st.fast AND st.pulled GROUP BY st.source_id;

        INSERT INTO recordings (call_id, position, state, remote_ref, remote_url,
                                blob_key, sha256, size_bytes, mime_type, stored_at)
        SELECT st.key_id, e.ord - 1,
               CASE WHEN e.rec ? 'blob' THEN 'stored' ELSE 'remote' END,
               e.rec->>'ref', e.rec->>'url', e.rec->>'blob', decode(e.rec->>'blob', 'hex'),
               (e.rec->>'size')::bigint, e.rec->>'mime',
               CASE WHEN e.rec ? 'blob' THEN now() END
          FROM ringlog_stage st, jsonb_array_elements(st.recordings) WITH ORDINALITY AS e(rec, ord)
         WHERE st.fast;

        -- The task rules (ringlog_tasks_*, shared with ringlog_ingest_call):
        -- the answers close the tasks of earlier missed calls, then a lead's
        -- latest missed call opens its task (done at once when a call of
        -- the lead was answered after it, in this batch or before).
        PERFORM ringlog_tasks_missed_close(array_agg(st.lead_id), array_agg(st.started))
           FROM ringlog_stage st
          WHERE st.fast AND st.disposition = 'answered' AND st.lead_id IS NOT NULL
         HAVING count(*) > 0;
        PERFORM ringlog_tasks_missed_open(array_agg(m.lead_id ORDER BY m.idx),
                                          array_agg(m.key_id ORDER BY m.idx),
                                          array_agg(m.source_id ORDER BY m.idx),
                                          array_agg(m.default_resp ORDER BY m.idx),
                                          array_agg(m.started ORDER BY m.idx))
           FROM (SELECT DISTINCT ON (st.lead_id) st.*
                   FROM ringlog_stage st
                  WHERE st.fast AND st.locked AND st.missed AND st.lead_id IS NOT NULL
                  ORDER BY st.lead_id, st.started DESC, st.idx DESC) m
         HAVING count(*) > 0;
        PERFORM ringlog_tasks_mapping_open(array_agg(st.source_id ORDER BY st.idx),
                                           array_agg(st.agent ORDER BY st.idx),
                                           array_agg(st.key_id ORDER BY st.idx),
                                           array_agg(st.default_resp ORDER BY st.idx))
           FROM ringlog_stage st
          WHERE st.fast AND st.unmapped AND st.create_leads
         HAVING count(*) > 0;
    END IF;

    -- Every row in order: the fast ones are stored; the others now.
    FOR s IN SELECT * FROM ringlog_stage st ORDER BY st.idx LOOP
        idx := s.idx;
        IF s.fast THEN
            call_id := s.key_id;
            outcome := 'stored';
            RETURN NEXT;
            CONTINUE;
        END IF;
        IF s.pulled THEN
            SELECT k.call_id INTO call_id FROM call_keys k
             WHERE k.source_id = s.source_id AND k.pbx_call_id = s.pbx_call_id;
            IF FOUND THEN
                outcome := 'duplicate';
                RETURN NEXT;
                CONTINUE;
            END IF;
        END IF;
        SELECT * INTO r FROM ringlog_ingest_call(
            s.source_id, s.pbx_call_id, s.direction, s.disposition,
            s.caller, s.caller_e164, s.caller_name, s.callee, s.callee_e164, s.did,
            s.agent, s.agent_name, s.started_text, s.answered_text, s.ended_text, s.time_zone,
            s.duration_s, s.billable_s, s.recordings, s.raw, s.received_at, s.leg_of, s.transport);
        call_id := r.call_id;
        outcome := r.outcome;
        IF s.pulled AND outcome = 'stored' THEN
            UPDATE calls c SET origin = 'reconcile' WHERE c.id = r.call_id;
            PERFORM ringlog_reconcile_filled(s.source_id, 1);
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
