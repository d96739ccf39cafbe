-- BEFORE INSERT on calls (sql/040): a call waits while its numbers are being
-- erased, so an erasure and a push of the same number never leave half of
-- either. ringlog_erase holds the number's lock (the lead lock's key,
-- ringlog_lead_lock) exclusively; a new call takes it shared (pushes of one
-- number do not wait for each other), to the end of its transaction. Then:
-- * a call without an id (its key was not inserted: ringlog_erased_key, or
--   erased meanwhile) is not stored;
-- * a call whose (source, PBX call id) was erased meanwhile is not stored
--   (its key goes too): checked when the session has the privacy key (every
--   ringlog program); a script without it is stopped by ringlog_erased_key
--   for a new key, and a row moving partition is no new call;
-- * a lead erased meanwhile is not linked (the call is new data, stored).
CREATE OR REPLACE FUNCTION ringlog_erase_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        RETURN NULL;
    END IF;
    IF NEW.caller_e164 IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock_shared(NEW.caller_e164::bigint);
    END IF;
    IF NEW.callee_e164 IS NOT NULL AND NEW.callee_e164 IS DISTINCT FROM NEW.caller_e164 THEN
        PERFORM pg_advisory_xact_lock_shared(NEW.callee_e164::bigint);
    END IF;
    IF NEW.lead_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = NEW.lead_id) THEN
        NEW.lead_id := NULL;
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
