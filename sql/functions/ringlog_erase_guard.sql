-- BEFORE INSERT on calls (sql/040): what an erasure running at the same
-- time leaves a new call. ringlog_erase runs in a REPEATABLE READ
-- transaction, so it removes exactly what its snapshot shows, all or
-- nothing, and a push that changes any of it meanwhile (a re-push of one of
-- its calls, a call or task of its lead) makes it fail with a serialization
-- failure and run again; a push never waits on a number. Here:
-- * a call without an id (its key was not inserted: ringlog_erased_key, or
--   erased meanwhile) is not stored;
-- * a lead erased meanwhile is not linked (locked as the foreign key would,
--   so an erasure deleting it is waited for): the call is new data, stored;
-- * a call whose (source, PBX call id) was erased meanwhile (its key went in
--   before the tombstone was committed) is not stored, and its key goes:
--   checked when the session has the privacy key (every ringlog program; a
--   script without it is stopped by ringlog_erased_key for a new key, and a
--   row moving partition is no new call).
CREATE OR REPLACE FUNCTION ringlog_erase_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        RETURN NULL;
    END IF;
    IF NEW.lead_id IS NOT NULL THEN
        PERFORM 1 FROM leads l WHERE l.id = NEW.lead_id FOR KEY SHARE;
        IF NOT FOUND THEN
            NEW.lead_id := NULL;
        END IF;
    END IF;
    IF coalesce(current_setting('ringlog.privacy_key', true), '') = ''
       OR NOT EXISTS (SELECT 1 FROM erased_calls) THEN
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM erased_calls e
                WHERE e.key_hash = ringlog_privacy_hmac(ringlog_privacy_key(),
                                       'call:' || NEW.source_id || ':' || NEW.pbx_call_id)) THEN
        DELETE FROM call_keys k WHERE k.call_id = NEW.id;
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;

-- Its triggers (made here, beside the function, by every `ringlog migrate`).
CREATE OR REPLACE TRIGGER calls_erase_guard BEFORE INSERT ON calls
    FOR EACH ROW EXECUTE FUNCTION ringlog_erase_guard();
