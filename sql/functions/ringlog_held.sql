-- True when the call P_CALL_ID (linked to lead P_LEAD_ID) is on legal hold,
-- itself or through its lead (sql/040 holds): retention and erasure skip it.
CREATE OR REPLACE FUNCTION ringlog_held(p_call_id bigint, p_lead_id bigint) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT EXISTS (SELECT 1 FROM holds h WHERE h.call_id = p_call_id)
        OR (p_lead_id IS NOT NULL AND EXISTS (SELECT 1 FROM holds h WHERE h.lead_id = p_lead_id))
$$;
