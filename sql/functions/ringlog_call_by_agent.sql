-- A call that names the agent who took or made it: an answered call, or an
-- outbound one that is over, with an extension, that is not another leg of
-- a call nor internal. Its agent's CRM user becomes a new lead's
-- responsible; an extension mapped to nobody opens a check_agent_mapping
-- task. Both ingest paths ask this function (inlined).
CREATE OR REPLACE FUNCTION ringlog_call_by_agent(p_agent text, p_leg_of text, p_direction text,
                                                 p_disposition text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p_agent IS NOT NULL AND p_leg_of IS NULL AND p_direction <> 'internal'
           AND (p_disposition = 'answered' OR (p_direction = 'out' AND p_disposition <> 'in_progress'))
$$;
