-- A task rule of stored calls (README "Leads and tasks"), the one home used
-- by ringlog_ingest_calls (a batch: one element per call) and
-- ringlog_ingest_call (one call: one-element arrays); the arrays are
-- parallel. PL/pgSQL keeps its statement's plan for the session, and a
-- generic one: planned again for each set of arrays, it cost 5x more.
--
-- An answered call closes its lead's open missed-call tasks of calls that
-- started no later than it did, whichever source they came from.
CREATE OR REPLACE FUNCTION ringlog_tasks_missed_close(p_leads bigint[], p_started timestamptz[])
RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    -- Found by lead first (tasks_missed_call), whatever the statistics say.
    UPDATE tasks t SET status = 'done', done_at = now()
     WHERE t.lead_id = ANY (p_leads) AND t.kind = 'missed_call' AND t.status = 'open'
       AND EXISTS (SELECT 1 FROM unnest(p_leads, p_started) AS u(lead, started), call_keys k
                    WHERE u.lead = t.lead_id AND k.call_id = t.call_id AND k.started_at <= u.started);
END
$$;
