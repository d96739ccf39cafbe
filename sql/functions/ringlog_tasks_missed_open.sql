-- A task rule of stored calls (README "Leads and tasks"), the one home used
-- by ringlog_ingest_calls (a batch: one element per call) and
-- ringlog_ingest_call (one call: one-element arrays); the arrays are
-- parallel. PL/pgSQL keeps its statement's plan for the session, and a
-- generic one: planned again for each set of arrays, it cost 5x more.
--
-- A missed call opens a task for its lead's responsible (P_DEFAULT, the
-- source's default responsible, when the lead has none): one open task per
-- lead, and never a second one for the same call. A call of the lead that
-- started after the missed call (P_STARTED) and was answered has dealt with
-- it already, whatever order the PBX pushed them in: the task is made done.
-- The caller holds the number's lock (ringlog_lead_lock).
CREATE OR REPLACE FUNCTION ringlog_tasks_missed_open(p_leads bigint[], p_calls bigint[],
                                                     p_sources bigint[], p_default text[],
                                                     p_started timestamptz[])
RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    INSERT INTO tasks (kind, lead_id, call_id, assignee, source_id, status, done_at)
    SELECT DISTINCT ON (l.id) 'missed_call', l.id, u.call, coalesce(l.responsible, u.dflt), u.source,
           CASE WHEN a.answered THEN 'done' ELSE 'open' END, CASE WHEN a.answered THEN now() END
      FROM unnest(p_leads, p_calls, p_sources, p_default, p_started)
           WITH ORDINALITY AS u(lead, call, source, dflt, started, ord)
      JOIN leads l ON l.id = u.lead
     CROSS JOIN LATERAL (
           SELECT EXISTS (SELECT 1 FROM calls c
                           WHERE c.lead_id = l.id AND c.started_at > u.started
                             AND c.disposition = 'answered') AS answered) a
     WHERE NOT EXISTS (SELECT 1 FROM tasks t
                        WHERE t.lead_id = l.id AND t.kind = 'missed_call'
                          AND (t.status = 'open' OR t.call_id = u.call))
     ORDER BY l.id, u.ord;
END
$$;
