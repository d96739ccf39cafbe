-- 005: what ringlog-fetcherd's query API needs: indexes for the call log's
-- filters in keyset order, the CSV export as one function (the daemon and
-- psql run the same query), lead upserts from the CRM, and small helpers.

-- The call log of one number, newest first, in keyset order; these replace
-- 001's single-column indexes, which they cover.
CREATE INDEX calls_caller_started ON calls (caller_e164, started_at DESC, id DESC)
    WHERE caller_e164 IS NOT NULL;
CREATE INDEX calls_callee_started ON calls (callee_e164, started_at DESC, id DESC)
    WHERE callee_e164 IS NOT NULL;
DROP INDEX calls_caller;
DROP INDEX calls_callee;
-- Leads of a number, open or closed (001's index holds only open ones).
CREATE INDEX leads_phone ON leads (phone);
CREATE INDEX tasks_lead ON tasks (lead_id) WHERE lead_id IS NOT NULL;

-- The length of the audio, when whoever stores it can tell (NULL: unknown).
ALTER TABLE recordings ADD COLUMN IF NOT EXISTS duration_s integer CHECK (duration_s >= 0);

-- A time as the API writes it: RFC 3339 in UTC, with microseconds only
-- when there are some ("2025-06-16T09:20:05Z").
CREATE FUNCTION ringlog_utc_text(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC',
                   CASE WHEN date_part('microseconds', t)::bigint % 1000000 = 0
                        THEN 'YYYY-MM-DD"T"HH24:MI:SS"Z"'
                        ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"' END)
$$;

-- A `from` or `to` query parameter (already checked by the daemon): a date
-- is the start of that day in ZONE (or of the next day for an upper bound,
-- so that to=2025-06-30 includes the 30th); a time with an offset is
-- absolute; a time without one is wall-clock time in ZONE. DST by
-- PostgreSQL's zone database.
CREATE FUNCTION ringlog_query_bound(t text, zone text, upper boolean) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN t IS NULL THEN NULL
        WHEN t ~ '^\d{4}-\d{2}-\d{2}$'
            THEN (t::date + CASE WHEN upper THEN 1 ELSE 0 END)::timestamp AT TIME ZONE zone
        WHEN t ~ '([Zz]|[+-]\d{2}(:?\d{2})?)$' THEN t::timestamptz
        ELSE t::timestamp AT TIME ZONE zone
    END
$$;

-- Spreadsheet formula injection: a free-text cell that starts with
-- = + - @ TAB or CR gets a leading apostrophe, so Excel and LibreOffice show
-- it as text instead of running it.
CREATE FUNCTION ringlog_csv_text(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN left(t, 1) IN ('=', '+', '-', '@', E'\t', E'\r') THEN '''' || t ELSE t END
$$;

-- A phone number cell: "+" and the E.164 digits when the number was
-- normalised; otherwise what the PBX sent, guarded unless it is plainly a
-- number ("+36 1 234", "1002"), so numbers are never altered.
CREATE FUNCTION ringlog_csv_phone(raw text, e164 text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN e164 IS NOT NULL THEN '+' || e164
        WHEN left(raw, 1) IN ('=', '+', '-', '@', E'\t', E'\r') AND raw !~ '^\+[0-9][0-9 ()./-]*$'
            THEN '''' || raw
        ELSE raw
    END
$$;

-- The accountants' export: one row per call started in [p_from, p_to),
-- oldest first, local date and time in p_tz. The columns are the documented
-- contract of GET /v1/export.csv (README, docs/openapi-fetcher.yaml).
-- A plain SQL function, so PostgreSQL inlines it into the caller's query:
--   \copy (SELECT * FROM ringlog_export_calls('2025-06-01', '2025-07-01',
--          'Europe/Budapest')) TO 'calls.csv' WITH (FORMAT csv, HEADER)
CREATE FUNCTION ringlog_export_calls(p_from timestamptz, p_to timestamptz, p_tz text,
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

-- POST /v1/leads: creates or updates one lead from the CRM. P holds only
-- checked keys: crm_id, phone (E.164 digits), name, company, crm_url,
-- responsible, status; a missing key leaves the field as it is, a JSON null
-- clears it. The lead is found by crm_id, else (for a new crm_id: only
-- among ringlog's own leads) by an open lead of the phone. A new lead, or
-- one whose number changed, takes over the earlier calls of its number that
-- have no lead yet. Outcome: created, updated, unchanged, or needs_phone (no
-- such lead and no phone to create it with).
CREATE FUNCTION ringlog_upsert_lead(p jsonb,
    OUT lead_id bigint, OUT outcome text, OUT linked_calls integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_old leads%ROWTYPE;
    v_new leads%ROWTYPE;
    v_found boolean := false;
BEGIN
    linked_calls := 0;
    -- One CRM sync at a time: two requests for the same new number must not
    -- make two leads (no unique key can say "one open lead per number").
    PERFORM pg_advisory_xact_lock(hashtext('ringlog_upsert_lead'));
    IF p ? 'crm_id' THEN
        SELECT * INTO v_old FROM leads l WHERE l.crm_id = p->>'crm_id' FOR UPDATE;
        v_found := FOUND;
    END IF;
    IF NOT v_found AND p ? 'phone' THEN
        SELECT * INTO v_old FROM leads l
         WHERE l.phone = p->>'phone' AND l.status = 'open'
           AND (l.crm_id IS NULL OR NOT p ? 'crm_id')
         ORDER BY l.id LIMIT 1 FOR UPDATE;
        v_found := FOUND;
    END IF;

    IF NOT v_found THEN
        IF NOT p ? 'phone' THEN
            outcome := 'needs_phone';
            RETURN;
        END IF;
        INSERT INTO leads AS l (phone, name, company, crm_id, crm_url, responsible, status, origin)
        VALUES (p->>'phone', coalesce(p->>'name', ''), coalesce(p->>'company', ''), p->>'crm_id',
                p->>'crm_url', p->>'responsible', coalesce(p->>'status', 'open'), 'crm')
        RETURNING l.* INTO v_new;
        outcome := 'created';
    ELSE
        v_new := v_old;
        IF p ? 'phone' THEN v_new.phone := p->>'phone'; END IF;
        IF p ? 'name' THEN v_new.name := coalesce(p->>'name', ''); END IF;
        IF p ? 'company' THEN v_new.company := coalesce(p->>'company', ''); END IF;
        IF p ? 'crm_id' THEN v_new.crm_id := p->>'crm_id'; END IF;
        IF p ? 'crm_url' THEN v_new.crm_url := p->>'crm_url'; END IF;
        IF p ? 'responsible' THEN v_new.responsible := p->>'responsible'; END IF;
        IF p ? 'status' THEN v_new.status := p->>'status'; END IF;
        IF v_new IS NOT DISTINCT FROM v_old THEN
            outcome := 'unchanged';
        ELSE
            UPDATE leads l SET phone = v_new.phone, name = v_new.name, company = v_new.company,
                   crm_id = v_new.crm_id, crm_url = v_new.crm_url,
                   responsible = v_new.responsible, status = v_new.status, updated_at = now()
             WHERE l.id = v_old.id;
            outcome := 'updated';
        END IF;
    END IF;
    lead_id := v_new.id;

    IF v_new.status = 'open' AND (outcome = 'created' OR v_new.phone <> v_old.phone) THEN
        UPDATE calls c SET lead_id = v_new.id
         WHERE c.lead_id IS NULL
           AND ((c.direction = 'in' AND c.caller_e164 = v_new.phone)
             OR (c.direction = 'out' AND c.callee_e164 = v_new.phone));
        GET DIAGNOSTICS linked_calls = ROW_COUNT;
    END IF;
END
$$;
