-- Links the earlier calls of P_PHONE that have no lead to lead P_LEAD_ID
-- (a lead just created, or whose number changed); returns how many. The
-- calls are those whose other party (ringlog_other_party) is the number, so
-- legs and internal calls stay unlinked, as at ingest. The caller holds
-- the number's lock (ringlog_lead_lock).
CREATE OR REPLACE FUNCTION ringlog_lead_backfill(p_lead_id bigint, p_phone text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    -- The first test picks the calls by index (calls_caller_started,
    -- calls_callee_started); the rule is the second.
    UPDATE calls c SET lead_id = p_lead_id
     WHERE c.lead_id IS NULL
       AND (c.caller_e164 = p_phone OR c.callee_e164 = p_phone)
       AND ringlog_other_party(c.direction, c.caller_e164, c.callee_e164, c.leg_of) = p_phone;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
