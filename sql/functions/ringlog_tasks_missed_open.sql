-- A task rule of stored calls (README "Leads and tasks"), the one home used
-- by ringlog_ingest_calls (a batch: one element per call) and
-- ringlog_ingest_call (one call: one-element arrays); the arrays are
-- parallel. PL/pgSQL keeps its statement's plan for the session, and a
-- generic one: planned again for each set of arrays, it cost 5x more.
--
-- A missed call opens a task for its lead's responsible (P_DEFAULT, the
-- source's default responsible, when the lead has none): one open task per
-- lead, and never a second one for the same call. The caller holds the
-- number's lock (ringlog_lead_lock).
CREATE OR REPLACE FUNCTION ringlog_tasks_missed_open(p_leads bigint[], p_calls bigint[],
                                                     p_sources bigint[], p_default text[])
RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    INSERT INTO tasks (kind, lead_id, call_id, assignee, source_id)
    SELECT DISTINCT ON (l.id) 'missed_call', l.id, u.call, coalesce(l.responsible, u.dflt), u.source
      FROM unnest(p_leads, p_calls, p_sources, p_default) WITH ORDINALITY AS u(lead, call, source, dflt, ord)
      JOIN leads l ON l.id = u.lead
     WHERE NOT EXISTS (SELECT 1 FROM tasks t
                        WHERE t.lead_id = l.id AND t.kind = 'missed_call'
                          AND (t.status = 'open' OR t.call_id = u.call))
     ORDER BY l.id, u.ord;
END
$$;
