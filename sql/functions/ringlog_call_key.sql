-- The statement triggers that keep call_keys (sql/009) in step with calls,
-- for rows written by anyone but ringlog_ingest_call (which writes the key
-- first): an inserted call without a key gets one, and a second call of the
-- same (source, PBX call id) fails (23505) as it did when calls had that
-- unique key; a key left behind by rows that went without it (TRUNCATE
-- calls) is taken over. A call whose start changes (even to another month,
-- another partition: still an UPDATE statement) moves its key's started_at.
-- A deleted call deletes its key, and with it its recordings' rows,
-- revisions and tasks (their foreign keys cascade). Statement triggers with
-- transition tables: a bulk insert pays once, not per row. Every look-up of
-- call_keys is a probe of its primary key per row of the statement (a
-- scalar subquery, a loop, = ANY): a join could hash the whole table, and
-- ingest's one-row statements run these on every push.
CREATE OR REPLACE FUNCTION ringlog_call_key() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_missing bigint;
    v_made    bigint;
    r         record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO v_missing FROM new_rows n
         WHERE (SELECT k.call_id FROM call_keys k WHERE k.call_id = n.id) IS NULL;
        IF v_missing = 0 THEN
            RETURN NULL;
        END IF;
        INSERT INTO call_keys AS k (call_id, source_id, pbx_call_id, started_at)
        SELECT n.id, n.source_id, n.pbx_call_id, n.started_at FROM new_rows n
         WHERE (SELECT x.call_id FROM call_keys x WHERE x.call_id = n.id) IS NULL
        ON CONFLICT (source_id, pbx_call_id) DO UPDATE
           SET call_id = EXCLUDED.call_id, started_at = EXCLUDED.started_at
         WHERE NOT EXISTS (SELECT 1 FROM calls c WHERE c.id = k.call_id);
        GET DIAGNOSTICS v_made = ROW_COUNT;
        IF v_made < v_missing THEN
            RAISE EXCEPTION 'a call of that source and PBX call id is already stored'
                  USING ERRCODE = 'unique_violation';
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        FOR r IN SELECT n.id, n.started_at FROM new_rows n LOOP
            UPDATE call_keys SET started_at = r.started_at
             WHERE call_id = r.id AND started_at IS DISTINCT FROM r.started_at;
        END LOOP;
    ELSE
        DELETE FROM call_keys WHERE call_id = ANY (ARRAY(SELECT o.id FROM old_rows o));
    END IF;
    RETURN NULL;
END
$$;

-- Its triggers (made here, beside the function, by every `ringlog migrate`).
CREATE OR REPLACE TRIGGER calls_key_insert AFTER INSERT ON calls REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ringlog_call_key();
CREATE OR REPLACE TRIGGER calls_key_update AFTER UPDATE ON calls REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ringlog_call_key();
CREATE OR REPLACE TRIGGER calls_key_delete AFTER DELETE ON calls REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ringlog_call_key();
