-- A time from the daemon: "…+00" is absolute, anything else is wall-clock
-- time in ZONE (PostgreSQL's zone database settles DST).
CREATE OR REPLACE FUNCTION ringlog_time(t text, zone text) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN t IS NULL THEN NULL
        WHEN right(t, 3) = '+00' THEN t::timestamptz
        ELSE t::timestamp AT TIME ZONE zone
    END
$$;
