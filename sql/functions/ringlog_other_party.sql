-- The other party of a call, the number every lead rule is about: the
-- caller of an inbound call, the callee of an outbound one, as E.164 digits
-- (NULL when the PBX sent no public number). Internal calls have none, and
-- neither has another leg of a call (FreeSWITCH posts one CDR per channel
-- leg; leg_of names the call it belongs to): a leg is stored, never linked
-- to a lead and never the subject of a task. Ingest, the back-fill of a new
-- lead and the tests all ask this function.
CREATE OR REPLACE FUNCTION ringlog_other_party(p_direction text, p_caller_e164 text,
                                               p_callee_e164 text, p_leg_of text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_leg_of IS NULL THEN
                CASE p_direction WHEN 'in' THEN p_caller_e164 WHEN 'out' THEN p_callee_e164 END
           END
$$;
