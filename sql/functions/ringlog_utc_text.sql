-- A time as the API writes it: RFC 3339 in UTC, with microseconds only
-- when there are some ("2025-06-16T09:20:05Z").
CREATE OR REPLACE FUNCTION ringlog_utc_text(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC',
                   CASE WHEN date_part('microseconds', t)::bigint % 1000000 = 0
                        THEN 'YYYY-MM-DD"T"HH24:MI:SS"Z"'
                        ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"' END)
$$;
