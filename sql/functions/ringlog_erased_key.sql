-- BEFORE INSERT on call_keys (sql/040): the key of an erased call (its
-- keyed hash is in erased_calls) is not inserted (RETURN NULL), so nothing
-- of the call is stored again, whoever writes it: a spooled push, a
-- dead-letter replay, a reconciliation pull. A writer sees "no key row
-- inserted and no existing call": ringlog_ingest_call answers 'erased'.
-- While nothing was ever erased this costs one look at an empty table; the
-- session needs the privacy key (ringlog_privacy_key) once something was.
-- The key is read from the setting here, not through ringlog_privacy_key()
-- (a PL/pgSQL call per row: 12 of the 40 us this check adds to a push);
-- that function still says what is wrong when there is none.
CREATE OR REPLACE FUNCTION ringlog_erased_key() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_hex text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM erased_calls) THEN
        RETURN NEW;
    END IF;
    v_hex := current_setting('ringlog.privacy_key', true);
    IF v_hex IS NULL OR length(v_hex) < 64 THEN
        PERFORM ringlog_privacy_key(); -- raises: this session has no privacy key
    END IF;
    IF EXISTS (SELECT 1 FROM erased_calls e
                WHERE e.key_hash = ringlog_privacy_hmac(decode(v_hex, 'hex'),
                                       'call:' || NEW.source_id || ':' || NEW.pbx_call_id)) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;

-- Its triggers (made here, beside the function, by every `ringlog migrate`).
CREATE OR REPLACE TRIGGER call_keys_erased BEFORE INSERT ON call_keys
    FOR EACH ROW EXECUTE FUNCTION ringlog_erased_key();
