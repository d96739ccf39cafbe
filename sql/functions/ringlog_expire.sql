-- Retention, one small batch at a time (`ringlog maintain`): removes up to
-- P_LIMIT of source P_SOURCE_ID's
--   'calls'         calls started before P_BEFORE (their revisions, tasks
--                   and recordings' rows go with them),
--   'recordings'    recordings of calls started before P_BEFORE (the calls
--                   stay),
--   'dead_letters'  dead letters received before P_BEFORE,
--   'orphans'       (any source) keys of calls started before P_BEFORE whose
--                   row went with a dropped month (ringlog_drop_expired_months),
--                   and what refers to them,
-- oldest first, and returns how many and the blob keys no row uses any
-- more. The caller commits, then deletes those blobs: a blob goes only
-- after its rows, so no row ever points to a missing blob (a crash in
-- between leaves orphans for `ringlog recordings gc`). P_DRY_RUN: counts
-- everything that would go, removes nothing.
CREATE OR REPLACE FUNCTION ringlog_expire(p_kind text, p_source_id bigint, p_before timestamptz,
                                          p_limit integer, p_dry_run boolean DEFAULT false,
                                          OUT removed bigint, OUT freed_blobs text[])
LANGUAGE plpgsql AS $$
DECLARE
    v_ids  bigint[];
    v_keys text[];
BEGIN
    freed_blobs := '{}';
    IF p_kind = 'dead_letters' THEN
        IF p_dry_run THEN
            SELECT count(*) INTO removed FROM dead_letters d JOIN sources s ON s.name = d.source_name
             WHERE s.id = p_source_id AND d.received_at < p_before;
            RETURN;
        END IF;
        DELETE FROM dead_letters WHERE id IN (
            SELECT d.id FROM dead_letters d JOIN sources s ON s.name = d.source_name
             WHERE s.id = p_source_id AND d.received_at < p_before
             ORDER BY d.received_at LIMIT p_limit);
        GET DIAGNOSTICS removed = ROW_COUNT;
        RETURN;
    ELSIF p_kind = 'orphans' THEN
        SELECT array_agg(x.call_id) INTO v_ids FROM (
            SELECT k.call_id FROM call_keys k
             WHERE k.started_at < p_before
               AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.id = k.call_id AND c.started_at = k.started_at)
             ORDER BY k.started_at LIMIT CASE WHEN p_dry_run THEN NULL ELSE p_limit END) x;
        removed := coalesce(array_length(v_ids, 1), 0);
        IF p_dry_run OR v_ids IS NULL THEN
            RETURN;
        END IF;
        SELECT coalesce(array_agg(DISTINCT r.blob_key), '{}') INTO v_keys
          FROM recordings r WHERE r.call_id = ANY (v_ids) AND r.blob_key IS NOT NULL;
        DELETE FROM call_keys WHERE call_id = ANY (v_ids);
        SELECT coalesce(array_agg(k), '{}') INTO freed_blobs FROM unnest(v_keys) k
         WHERE NOT EXISTS (SELECT 1 FROM recordings r WHERE r.blob_key = k);
        RETURN;
    ELSIF p_kind NOT IN ('calls', 'recordings') THEN
        RAISE EXCEPTION 'unknown kind %', p_kind USING ERRCODE = 'invalid_parameter_value';
    END IF;

    IF p_dry_run THEN
        IF p_kind = 'calls' THEN
            SELECT count(*) INTO removed FROM calls c
             WHERE c.source_id = p_source_id AND c.started_at < p_before;
        ELSE
            SELECT count(*) INTO removed FROM recordings r JOIN calls c ON c.id = r.call_id
             WHERE c.source_id = p_source_id AND c.started_at < p_before;
        END IF;
        RETURN;
    END IF;

    -- The oldest calls of the batch (calls_source_started), locked.
    SELECT array_agg(id) INTO v_ids FROM (
        SELECT c.id FROM calls c
         WHERE c.source_id = p_source_id AND c.started_at < p_before
           AND (p_kind = 'calls' OR EXISTS (SELECT 1 FROM recordings r WHERE r.call_id = c.id))
         ORDER BY c.started_at LIMIT p_limit FOR UPDATE SKIP LOCKED) x;
    IF v_ids IS NULL THEN
        removed := 0;
        RETURN;
    END IF;
    SELECT coalesce(array_agg(DISTINCT r.blob_key), '{}') INTO v_keys
      FROM recordings r WHERE r.call_id = ANY (v_ids) AND r.blob_key IS NOT NULL;
    IF p_kind = 'calls' THEN
        DELETE FROM calls WHERE id = ANY (v_ids);
    ELSE
        DELETE FROM recordings WHERE call_id = ANY (v_ids);
    END IF;
    GET DIAGNOSTICS removed = ROW_COUNT;
    SELECT coalesce(array_agg(k), '{}') INTO freed_blobs FROM unnest(v_keys) k
     WHERE NOT EXISTS (SELECT 1 FROM recordings r WHERE r.blob_key = k);
END
$$;
