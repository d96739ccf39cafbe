-- A retention as an operator writes it (`--keep-calls 400d`, [maintain]
-- keep_calls = 400d): Nd days, Nh hours, or any PostgreSQL interval; empty
-- or "forever" is NULL (kept for ever, or the config's default for a source).
CREATE OR REPLACE FUNCTION ringlog_retention(t text) RETURNS interval
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN t IS NULL OR t IN ('', 'forever') THEN NULL
        WHEN t ~ '^[0-9]{1,6}d$' THEN left(t, -1)::integer * interval '1 day'
        WHEN t ~ '^[0-9]{1,7}h$' THEN left(t, -1)::integer * interval '1 hour'
        ELSE t::interval
    END
$$;
