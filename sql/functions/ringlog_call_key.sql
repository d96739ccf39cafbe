-- The trigger that keeps call_keys (sql/009) in step with calls: a call
-- inserted without a key (by anyone but ringlog_ingest_call, which writes
-- the key first) gets one, and a second call of the same (source, PBX call
-- id) fails (23505) as it did when calls had that unique key; a call whose start
-- moves moves its key's started_at; a deleted call deletes its key, and
-- with it its recordings' rows, revisions and tasks (their foreign keys
-- cascade). A row moving to another month's partition reaches row triggers
-- as a DELETE and an INSERT: the DELETE finds the row still there (AFTER
-- triggers run at the end of the statement) and keeps the key.
CREATE OR REPLACE FUNCTION ringlog_call_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- Its own key (ingest wrote it first), a stale key (its row went
        -- without it: TRUNCATE calls) taken over, or another live call of
        -- the same (source, PBX call id): refused.
        INSERT INTO call_keys AS k (call_id, source_id, pbx_call_id, started_at)
        VALUES (NEW.id, NEW.source_id, NEW.pbx_call_id, NEW.started_at)
        ON CONFLICT (source_id, pbx_call_id) DO UPDATE
           SET call_id = EXCLUDED.call_id, started_at = EXCLUDED.started_at
         WHERE k.call_id = EXCLUDED.call_id
            OR NOT EXISTS (SELECT 1 FROM calls c WHERE c.id = k.call_id);
        IF NOT FOUND THEN
            RAISE EXCEPTION 'call % of source % is already stored', NEW.pbx_call_id, NEW.source_id
                  USING ERRCODE = 'unique_violation';
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NEW.started_at IS DISTINCT FROM OLD.started_at THEN
            UPDATE call_keys SET started_at = NEW.started_at WHERE call_id = NEW.id;
        END IF;
    ELSIF NOT EXISTS (SELECT 1 FROM calls WHERE id = OLD.id) THEN
        DELETE FROM call_keys WHERE call_id = OLD.id;
    END IF;
    RETURN NULL;
END
$$;
