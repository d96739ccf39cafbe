-- 007: a CRM sync and a push of the same new number make one lead.
--
-- ringlog_upsert_lead (005) serialised CRM syncs among themselves, but a
-- push that creates a lead (003) serialises on the number's own advisory
-- lock, so a sync and a push of one new number could both find no lead and
-- make two. The sync now also takes the number's lock, after its own: the
-- push path never waits while holding a lock (003), so the order cannot
-- deadlock, and whichever comes second sees the other's lead.

ALTER FUNCTION ringlog_upsert_lead(jsonb) RENAME TO ringlog_upsert_lead_unlocked;

CREATE FUNCTION ringlog_upsert_lead(p jsonb,
    OUT lead_id bigint, OUT outcome text, OUT linked_calls integer)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('ringlog_upsert_lead'));
    -- The key the lead rules use: the E.164 digits as a bigint.
    IF p->>'phone' ~ '^[1-9][0-9]{0,14}$' THEN
        PERFORM pg_advisory_xact_lock((p->>'phone')::bigint);
    END IF;
    SELECT u.lead_id, u.outcome, u.linked_calls INTO lead_id, outcome, linked_calls
      FROM ringlog_upsert_lead_unlocked(p) u;
END;
$$;
