-- A `from` or `to` query parameter (already checked by the daemon): a date
-- is the start of that day in ZONE (or of the next day for an upper bound,
-- so that to=2025-06-30 includes the 30th); a time with an offset is
-- absolute; a time without one is wall-clock time in ZONE. DST by
-- PostgreSQL's zone database.
CREATE OR REPLACE FUNCTION ringlog_query_bound(t text, zone text, upper boolean) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN t IS NULL THEN NULL
        WHEN t ~ '^\d{4}-\d{2}-\d{2}$'
            THEN (t::date + CASE WHEN upper THEN 1 ELSE 0 END)::timestamp AT TIME ZONE zone
        WHEN t ~ '([Zz]|[+-]\d{2}(:?\d{2})?)$' THEN t::timestamptz
        ELSE t::timestamp AT TIME ZONE zone
    END
$$;
