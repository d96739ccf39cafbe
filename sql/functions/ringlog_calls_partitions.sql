-- Makes the monthly partitions of calls (sql/009) from the month of P_FROM
-- (default: this month, UTC) to P_AHEAD months ahead, when missing; returns
-- the names made (an import of older calls asks for their months first). Run by
-- `ringlog migrate` and daily by `ringlog maintain`, so a push never waits
-- for one. A month whose calls already sit in calls_default (pushed before
-- its partition existed) is left there, said with a notice: attaching it
-- would have to move them.
--
-- Why not pg_partman: ringlog needs one monthly range and a drop decided
-- per source (a month goes when every source with calls in it has let them
-- expire, see ringlog_drop_expired_months); pg_partman's retention is per
-- table, it needs a superuser to install the extension and a scheduler of
-- its own, and this is thirty lines.
CREATE OR REPLACE FUNCTION ringlog_calls_partitions(p_ahead integer DEFAULT 3,
                                                    p_from timestamptz DEFAULT now())
RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    m    timestamp := date_trunc('month', least(p_from, now()) AT TIME ZONE 'UTC');
    last timestamp := date_trunc('month', now() AT TIME ZONE 'UTC') + p_ahead * interval '1 month';
    name text;
    lo   timestamptz;
    hi   timestamptz;
BEGIN
    WHILE m <= last LOOP
        name := 'calls_' || to_char(m, 'YYYY_MM');
        lo := m AT TIME ZONE 'UTC';
        hi := (m + interval '1 month') AT TIME ZONE 'UTC';
        IF to_regclass(name) IS NULL THEN
            IF EXISTS (SELECT 1 FROM calls_default WHERE started_at >= lo AND started_at < hi) THEN
                RAISE NOTICE 'calls of % are in calls_default: % not made', to_char(m, 'YYYY-MM'), name;
            ELSE
                EXECUTE format('CREATE TABLE %I PARTITION OF calls FOR VALUES FROM (%L) TO (%L)',
                               name, lo::text, hi::text);
                RETURN NEXT name;
            END IF;
        END IF;
        m := m + interval '1 month';
    END LOOP;
END
$$;
