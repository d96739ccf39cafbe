-- The accountants' export: one row per call started in [p_from, p_to),
-- oldest first, local date and time in p_tz; p_agent is an extension (on
-- any source) or a CRM user (its extensions, each on its own source), as in
-- GET /v1/calls (fetcher/calls.c). The columns are the documented
-- contract of GET /v1/export.csv (README, docs/openapi-fetcher.yaml).
-- A plain SQL function, so PostgreSQL inlines it into the caller's query:
--   \copy (SELECT * FROM ringlog_export_calls('2025-06-01', '2025-07-01',
--          'Europe/Budapest')) TO 'calls.csv' WITH (FORMAT csv, HEADER)
CREATE OR REPLACE FUNCTION ringlog_export_calls(p_from timestamptz, p_to timestamptz, p_tz text,
                                     p_source_id bigint DEFAULT NULL,
                                     p_agent text DEFAULT NULL,
                                     p_direction text DEFAULT NULL)
RETURNS TABLE ("date" text, "time" text, direction text, caller text, callee text, did text,
               agent text, lead_name text, company text, duration_s integer,
               billable_s integer, disposition text, has_recording text, call_id text)
LANGUAGE sql STABLE AS $$
    SELECT to_char(c.started_at AT TIME ZONE p_tz, 'YYYY-MM-DD'),
           to_char(c.started_at AT TIME ZONE p_tz, 'HH24:MI:SS'),
           c.direction,
           ringlog_csv_phone(c.caller, c.caller_e164),
           ringlog_csv_phone(c.callee, c.callee_e164),
           ringlog_csv_phone(c.did, NULL),
           ringlog_csv_text(coalesce(a.name, nullif(c.agent_name, ''), c.agent)),
           ringlog_csv_text(l.name),
           ringlog_csv_text(l.company),
           c.duration_s,
           c.billable_s,
           c.disposition,
           CASE WHEN EXISTS (SELECT 1 FROM recordings r
                              WHERE r.call_id = c.id AND r.state <> 'failed')
                THEN 'yes' ELSE 'no' END,
           ringlog_csv_text(c.pbx_call_id)
      FROM calls c
      LEFT JOIN leads l ON l.id = c.lead_id
      LEFT JOIN agents a ON a.source_id = c.source_id AND a.extension = c.agent
     WHERE c.started_at >= p_from AND c.started_at < p_to
       AND (p_source_id IS NULL OR c.source_id = p_source_id)
       AND (p_agent IS NULL OR c.agent = p_agent OR a.crm_user = p_agent)
       AND (p_direction IS NULL OR c.direction = p_direction)
     ORDER BY c.started_at, c.id
$$;
