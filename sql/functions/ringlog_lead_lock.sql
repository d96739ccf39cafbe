-- Serialises whatever may create a lead or a missed-call task for one
-- number: pg_advisory_xact_lock on the E.164 digits as a bigint (< 10^15, a
-- key range no other lock of ringlog uses), held to the end of the
-- transaction. Every writer of leads takes it: a push (ringlog_ingest_call),
-- a CRM sync, `ringlog lead add` and `lead import` (ringlog_upsert_leads),
-- so a sync and twenty pushes of one new number make one lead. There is no
-- global lock: syncs of different numbers run side by side.
--
-- Waiting while holding another lock could deadlock, so:
-- * ingest's writer commits several pushes in one transaction (group
--   commit): only its first statement (it holds nothing yet:
--   txid_current_if_assigned() is NULL) waits; a later one only tries, and
--   when the number is busy fails the batch with lock_not_available
--   (55P03), which makes the writer store the batch's pushes one by one;
-- * the lead upserts (P_WAIT) wait, but take every number of a batch first,
--   in ascending order (ringlog_upsert_leads), so two of them cannot hold
--   each other's numbers; a push never waits while holding one.
CREATE OR REPLACE FUNCTION ringlog_lead_lock(p_phone text, p_wait boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_wait OR txid_current_if_assigned() IS NULL THEN
        PERFORM pg_advisory_xact_lock(p_phone::bigint);
    ELSIF NOT pg_try_advisory_xact_lock(p_phone::bigint) THEN
        RAISE EXCEPTION 'the lead of % is being written by another transaction', p_phone
              USING ERRCODE = 'lock_not_available';
    END IF;
END
$$;
