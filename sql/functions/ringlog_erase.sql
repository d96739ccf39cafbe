-- Erases a person (`ringlog erase`, POST /v1/erase): everything stored of
-- the number P_PHONE (E.164 digits), of source P_SOURCE_ID only when given:
--   calls where it is a party (caller or callee) with their revisions,
--   recordings' rows and tasks; call events (screen pops) of it or of those
--   calls; dead letters that mention it (its E.164 digits, or its national
--   number for a source of that country, also written with spaces, dots,
--   dashes, brackets or slashes, or URL-encoded) or that were replayed into
--   those calls; click-to-calls to it; its leads when nothing else refers to
--   them (their tasks go with them); the export filters of the audit trail
--   that named it.
-- Held data (a call on hold, or a lead on hold and its calls: holds) stays,
-- and the answer says what was kept and why. Each erased call leaves a
-- tombstone (erased_calls, a keyed hash of source and PBX call id), so it
-- never comes back; the erasure is recorded in erasures (by P_BY, counts,
-- a keyed hash of the number, never the number). Needs the session's
-- privacy key (ringlog_privacy_key).
--
-- Concurrency: runs only in a REPEATABLE READ transaction (25000,
-- invalid_transaction_state, otherwise): it removes what its snapshot
-- shows, all or nothing; a push that changes any of it meanwhile (a
-- re-push of one of its calls, a new call or task linked to its lead) makes
-- it fail with 40001 (or 40P01), and the caller runs it again. `ringlog
-- erase` and POST /v1/erase hold the number's lock (ringlog_lead_lock's
-- key) as a session lock around their attempts (ten, with a short wait),
-- so pushes that create its lead or a task wait for the erasure; the keys
-- of its calls are locked first, as a push locks its key first.
--
-- Returns {"dry_run", "removed": {kind: rows}, "kept": [{kind, id,
-- reason}], "calls": [ids], "leads": [ids], "dead_letters": [ids],
-- "freed_blobs": [keys no row uses any more: the caller deletes them after
-- committing], "erasure_id"}. P_DRY_RUN: the same, nothing removed.
CREATE OR REPLACE FUNCTION ringlog_erase(p_phone text, p_source_id bigint, p_dry_run boolean,
                                         p_by text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_key     bytea := ringlog_privacy_key();
    v_source  text;
    v_calls   bigint[];
    v_leads   bigint[];
    v_dls     bigint[];
    v_c2c     bigint[];
    v_blobs   text[];
    v_kept    jsonb;
    v_removed jsonb;
    v_id      bigint;
BEGIN
    IF p_phone IS NULL OR p_phone !~ '^[1-9][0-9]{6,14}$' THEN
        RAISE EXCEPTION 'not an E.164 number: %', coalesce(p_phone, 'NULL')
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF current_setting('transaction_isolation') NOT IN ('repeatable read', 'serializable') THEN
        RAISE EXCEPTION 'ringlog_erase runs in a REPEATABLE READ transaction'
              USING ERRCODE = 'invalid_transaction_state';
    END IF;
    IF p_source_id IS NOT NULL THEN
        SELECT s.name INTO v_source FROM sources s WHERE s.id = p_source_id;
    END IF;

    IF NOT p_dry_run THEN
        PERFORM 1 FROM call_keys k
         WHERE k.call_id IN (SELECT c.id FROM calls c
                              WHERE (c.caller_e164 = p_phone OR c.callee_e164 = p_phone)
                                AND (p_source_id IS NULL OR c.source_id = p_source_id))
         ORDER BY k.call_id FOR UPDATE;
    END IF;

    -- What stays: held calls, held leads (and their calls).
    SELECT coalesce(jsonb_agg(x ORDER BY x->>'kind', (x->>'id')::bigint), '[]') INTO v_kept FROM (
        SELECT jsonb_build_object('kind', 'call', 'id', c.id, 'reason',
                   'on hold: ' || coalesce((SELECT h.reason FROM holds h WHERE h.call_id = c.id),
                                           (SELECT 'lead ' || h.lead_id || ' ' || h.reason
                                              FROM holds h WHERE h.lead_id = c.lead_id))) AS x
          FROM calls c
         WHERE (c.caller_e164 = p_phone OR c.callee_e164 = p_phone)
           AND (p_source_id IS NULL OR c.source_id = p_source_id)
           AND ringlog_held(c.id, c.lead_id)
        UNION ALL
        SELECT jsonb_build_object('kind', 'lead', 'id', l.id, 'reason',
                   CASE WHEN h.id IS NOT NULL THEN 'on hold: ' || h.reason
                        ELSE 'other calls refer to it' END)
          FROM leads l LEFT JOIN holds h ON h.lead_id = l.id
         WHERE l.phone = p_phone
           AND (h.id IS NOT NULL OR EXISTS (
                SELECT 1 FROM calls c WHERE c.lead_id = l.id
                   AND NOT ((c.caller_e164 = p_phone OR c.callee_e164 = p_phone)
                            AND (p_source_id IS NULL OR c.source_id = p_source_id)
                            AND NOT ringlog_held(c.id, c.lead_id))))) y;

    SELECT coalesce(array_agg(c.id ORDER BY c.id), '{}') INTO v_calls FROM calls c
     WHERE (c.caller_e164 = p_phone OR c.callee_e164 = p_phone)
       AND (p_source_id IS NULL OR c.source_id = p_source_id)
       AND NOT ringlog_held(c.id, c.lead_id);
    SELECT coalesce(array_agg(l.id ORDER BY l.id), '{}') INTO v_leads FROM leads l
     WHERE l.phone = p_phone
       AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(v_kept) k
                        WHERE k->>'kind' = 'lead' AND (k->>'id')::bigint = l.id);
    SELECT coalesce(array_agg(d.id ORDER BY d.id), '{}') INTO v_dls
      FROM dead_letters d LEFT JOIN sources s ON s.name = d.source_name
           CROSS JOIN LATERAL (SELECT regexp_replace(encode(d.body, 'escape') || ' ' || d.query,
                                                     '(%20|%2[Bb]|%28|%29|[-+ ().\/])', '', 'g') AS text) b
     WHERE (p_source_id IS NULL OR s.id = p_source_id)
       AND (d.replay_call_id = ANY (v_calls)
            OR strpos(b.text, p_phone) > 0
            OR (s.country_code <> '' AND left(p_phone, length(s.country_code)) = s.country_code
                AND strpos(b.text, substr(p_phone, length(s.country_code) + 1)) > 0));
    SELECT coalesce(array_agg(x.id ORDER BY x.id), '{}') INTO v_c2c FROM click2calls x
     WHERE (p_source_id IS NULL OR x.source_id = p_source_id)
       AND (x.target_e164 = p_phone OR x.lead_id = ANY (v_leads));

    v_removed := jsonb_build_object(
        'calls', cardinality(v_calls),
        'revisions', (SELECT count(*) FROM call_revisions r WHERE r.call_id = ANY (v_calls)),
        'recordings', (SELECT count(*) FROM recordings r WHERE r.call_id = ANY (v_calls)),
        'tasks', (SELECT count(*) FROM tasks t WHERE t.call_id = ANY (v_calls) OR t.lead_id = ANY (v_leads)),
        'events', (SELECT count(*) FROM call_events e
                    WHERE (p_source_id IS NULL OR e.source_id = p_source_id)
                      AND (e.phone_e164 = p_phone OR e.phone = p_phone OR e.phone = '+' || p_phone
                           OR EXISTS (SELECT 1 FROM calls c WHERE c.id = ANY (v_calls)
                                       AND c.source_id = e.source_id AND c.pbx_call_id = e.pbx_call_id))),
        'dead_letters', cardinality(v_dls),
        'click2calls', cardinality(v_c2c),
        'leads', cardinality(v_leads),
        'audit_filters', (SELECT count(*) FROM audit_log a WHERE strpos(a.filters::text, p_phone) > 0));
    SELECT coalesce(array_agg(DISTINCT r.blob_key), '{}') INTO v_blobs
      FROM recordings r WHERE r.call_id = ANY (v_calls) AND r.blob_key IS NOT NULL;

    IF NOT p_dry_run THEN
        DELETE FROM call_events e
         WHERE (p_source_id IS NULL OR e.source_id = p_source_id)
           AND (e.phone_e164 = p_phone OR e.phone = p_phone OR e.phone = '+' || p_phone
                OR EXISTS (SELECT 1 FROM calls c WHERE c.id = ANY (v_calls)
                            AND c.source_id = e.source_id AND c.pbx_call_id = e.pbx_call_id));
        INSERT INTO erased_calls (key_hash)
        SELECT ringlog_privacy_hmac(v_key, 'call:' || k.source_id || ':' || k.pbx_call_id)
          FROM call_keys k WHERE k.call_id = ANY (v_calls)
        ON CONFLICT DO NOTHING;
        DELETE FROM dead_letters d WHERE d.id = ANY (v_dls);
        DELETE FROM click2calls x WHERE x.id = ANY (v_c2c);
        -- The rows of the calls (their keys follow: ringlog_call_key), and
        -- a key whose row is already gone (a dropped month).
        DELETE FROM calls c WHERE c.id = ANY (v_calls);
        DELETE FROM call_keys k WHERE k.call_id = ANY (v_calls);
        DELETE FROM tasks t WHERE t.lead_id = ANY (v_leads);
        DELETE FROM leads l WHERE l.id = ANY (v_leads);
        UPDATE audit_log a SET filters = (
                   SELECT jsonb_object_agg(f.key, CASE WHEN strpos(f.value::text, p_phone) > 0
                                                       THEN '"erased"'::jsonb ELSE f.value END)
                     FROM jsonb_each(a.filters) f)
         WHERE strpos(a.filters::text, p_phone) > 0;
        SELECT coalesce(array_agg(b), '{}') INTO v_blobs FROM unnest(v_blobs) b
         WHERE NOT EXISTS (SELECT 1 FROM recordings r WHERE r.blob_key = b);
        INSERT INTO erasures (erased_by, phone_hash, source_name, removed, kept)
        VALUES (p_by, ringlog_privacy_hmac(v_key, 'phone:' || p_phone), v_source, v_removed, v_kept)
        RETURNING id INTO v_id;
    END IF;

    RETURN jsonb_build_object('dry_run', p_dry_run, 'removed', v_removed, 'kept', v_kept,
                              'calls', to_jsonb(v_calls), 'leads', to_jsonb(v_leads),
                              'dead_letters', to_jsonb(v_dls), 'freed_blobs', to_jsonb(v_blobs),
                              'erasure_id', v_id);
END
$$;
