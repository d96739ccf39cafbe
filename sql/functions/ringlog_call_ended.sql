-- When a call ended: as sent, else (a vendor that sends only durations:
-- Voicenter, Ringostat) its start plus its duration, once it is over.
CREATE OR REPLACE FUNCTION ringlog_call_ended(p_started timestamptz, p_ended timestamptz,
                                              p_duration_s integer, p_disposition text)
RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_ended IS NULL AND p_duration_s IS NOT NULL AND p_disposition <> 'in_progress'
                THEN p_started + p_duration_s * interval '1 second' ELSE p_ended END
$$;
