-- When a call was answered: as sent, else (only durations sent) for an
-- answered call its end minus its billable seconds, never before its start.
CREATE OR REPLACE FUNCTION ringlog_call_answered(p_started timestamptz, p_answered timestamptz,
                                                 p_ended timestamptz, p_billable_s integer,
                                                 p_disposition text)
RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_answered IS NULL AND p_disposition = 'answered' AND p_billable_s IS NOT NULL
                     AND p_ended IS NOT NULL
                THEN greatest(p_started, p_ended - p_billable_s * interval '1 second') ELSE p_answered END
$$;
