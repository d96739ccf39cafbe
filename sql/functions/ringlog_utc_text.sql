-- A time as the API writes it: RFC 3339 in UTC, to the second
-- ("2025-06-16T09:20:05Z"), always the same length. Fractions of a second
-- (now() has them) are cut: no answer carries them.
CREATE OR REPLACE FUNCTION ringlog_utc_text(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;
