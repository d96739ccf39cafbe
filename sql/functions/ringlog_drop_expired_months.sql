-- Retention by the month (`ringlog maintain`): drops each monthly partition
-- of calls that every source has let expire (the month ended before now()
-- minus the source's keep_calls, or P_DEFAULT for a source without one; a
-- source that keeps calls for ever keeps every month). Dropping a partition
-- is instant whatever it holds; the keys of its calls, and with them their
-- recordings' rows, revisions and tasks, then go in small batches
-- (ringlog_expire 'orphans'), before their blobs. calls_default is never
-- dropped: its expired calls go by batches. Returns each month dropped (or,
-- P_DRY_RUN, that would be) and about how many calls it held.
CREATE OR REPLACE FUNCTION ringlog_drop_expired_months(p_default interval, p_dry_run boolean DEFAULT false)
RETURNS TABLE (month text, calls bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_keep  interval;  -- the longest keep of any source; NULL: some keep for ever
    v_part  record;
BEGIN
    IF EXISTS (SELECT 1 FROM sources s WHERE coalesce(s.keep_calls, p_default) IS NULL) THEN
        RETURN;
    END IF;
    SELECT max(coalesce(s.keep_calls, p_default)) INTO v_keep FROM sources s;
    FOR v_part IN
        SELECT c.relname, c.reltuples
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'calls'::regclass AND c.relname ~ '^calls_[0-9]{4}_[0-9]{2}$'
           AND (to_date(substr(c.relname, 7), 'YYYY_MM') + interval '1 month')::timestamp
               AT TIME ZONE 'UTC' <= now() - coalesce(v_keep, interval '0')
         ORDER BY c.relname
    LOOP
        month := replace(substr(v_part.relname, 7), '_', '-');
        calls := greatest(v_part.reltuples, 0)::bigint;
        IF NOT p_dry_run THEN
            EXECUTE format('DROP TABLE %I', v_part.relname);
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
