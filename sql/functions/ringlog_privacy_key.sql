-- The privacy key of this session: the programs hand it over at connect
-- (libpq options "-c ringlog.privacy_key=<hex>", from [privacy] key_file),
-- so it is never stored in the database. Fails (55000) without one: an
-- erasure, or a write that must check the tombstones, cannot go on blind.
CREATE OR REPLACE FUNCTION ringlog_privacy_key() RETURNS bytea
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_hex text := current_setting('ringlog.privacy_key', true);
BEGIN
    IF v_hex IS NULL OR v_hex !~ '^([0-9a-f]{2}){32,}$' THEN
        RAISE EXCEPTION 'this session has no privacy key'
              USING ERRCODE = 'object_not_in_prerequisite_state',
                    HINT = 'set [privacy] key_file (at least 32 random bytes) for every ringlog program';
    END IF;
    RETURN decode(v_hex, 'hex');
END
$$;
