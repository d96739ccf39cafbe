-- The name of a lead a call creates for the number PHONE (E.164 digits):
-- the caller's name an inbound call carries, else the number itself.
CREATE OR REPLACE FUNCTION ringlog_call_lead_name(p_direction text, p_caller_name text, p_phone text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_direction = 'in' THEN coalesce(nullif(p_caller_name, ''), '+' || p_phone)
                ELSE '+' || p_phone END
$$;
