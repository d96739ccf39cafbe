-- A task rule of stored calls (README "Leads and tasks"), the one home used
-- by ringlog_ingest_calls (a batch: one element per call) and
-- ringlog_ingest_call (one call: one-element arrays); the arrays are
-- parallel. PL/pgSQL keeps its statement's plan for the session, and a
-- generic one: planned again for each set of arrays, it cost 5x more.
--
-- An extension mapped to no CRM user (ringlog_call_by_agent calls only):
-- one open check_agent_mapping task per (source, extension), for the
-- source's default responsible.
CREATE OR REPLACE FUNCTION ringlog_tasks_mapping_open(p_sources bigint[], p_agents text[],
                                                      p_calls bigint[], p_default text[])
RETURNS void
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    INSERT INTO tasks (kind, call_id, assignee, source_id, extension)
    SELECT DISTINCT ON (u.source, u.agent) 'check_agent_mapping', u.call, u.dflt, u.source, u.agent
      FROM unnest(p_sources, p_agents, p_calls, p_default) WITH ORDINALITY AS u(source, agent, call, dflt, ord)
     WHERE NOT EXISTS (SELECT 1 FROM tasks t
                        WHERE t.source_id = u.source AND t.extension = u.agent
                          AND t.kind = 'check_agent_mapping' AND t.status = 'open')
     ORDER BY u.source, u.agent, u.ord;
END
$$;
