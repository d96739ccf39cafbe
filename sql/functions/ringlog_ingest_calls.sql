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
-- stored as a push would be, with calls.origin = 'reconcile'.
--
-- A key that is absent or null is SQL NULL. One row comes back per element,
-- "idx" its 1-based position, with the call's id and the outcome (see
-- ringlog_ingest_call: stored, updated, duplicate, ignored, erased).
--
-- The elements are applied in order in one statement, so two pushes of one
-- call in a batch are one call and a revision, as if sent one after the
-- other; every rule of ringlog_ingest_call holds per element (the key's row
-- lock for a known call, the per-number lock for lead rules). A statement
-- error fails the batch: the caller then sends its pushes one by one so
-- that one bad push fails alone.
CREATE OR REPLACE FUNCTION ringlog_ingest_calls(p_batch jsonb)
RETURNS TABLE (idx integer, call_id bigint, outcome text)
LANGUAGE plpgsql AS $$
DECLARE
    j jsonb;
    r record;
    v_pulled boolean;
BEGIN
    idx := 0;
    FOR j IN SELECT e FROM jsonb_array_elements(p_batch) e LOOP
        idx := idx + 1;
        v_pulled := j->>'origin' = 'reconcile';
        IF v_pulled THEN
            SELECT k.call_id INTO call_id FROM call_keys k
             WHERE k.source_id = (j->>'source_id')::bigint AND k.pbx_call_id = j->>'call_id';
            IF FOUND THEN
                outcome := 'duplicate';
                RETURN NEXT;
                CONTINUE;
            END IF;
        END IF;
        SELECT * INTO r FROM ringlog_ingest_call(
            (j->>'source_id')::bigint, j->>'call_id', j->>'direction', j->>'disposition',
            j->>'caller', j->>'caller_e164', j->>'caller_name',
            j->>'callee', j->>'callee_e164', j->>'did',
            j->>'agent', j->>'agent_name',
            j->>'started_at', j->>'answered_at', j->>'ended_at', j->>'time_zone',
            (j->>'duration_s')::integer, (j->>'billable_s')::integer,
            coalesce(j->'recordings', '[]'), j->'raw', (j->>'received_at')::timestamptz,
            j->>'leg_of',
            coalesce(ARRAY(SELECT jsonb_array_elements_text(j->'transport')), '{}'));
        call_id := r.call_id;
        outcome := r.outcome;
        IF v_pulled AND outcome = 'stored' THEN
            UPDATE calls c SET origin = 'reconcile' WHERE c.id = r.call_id;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
