-- Creates or updates leads from P, a JSON array of lead objects (see
-- ringlog_upsert_lead), in order; one row per item. The CRM sync (POST
-- /v1/leads), `ringlog lead add` and `ringlog lead import` all write leads
-- through here. Every number of the batch is locked first, in ascending
-- order (ringlog_lead_lock), so batches of different numbers run side by
-- side and two batches sharing numbers cannot deadlock on them. A caller
-- that sends several batches in one transaction (lead import) sends them in
-- ascending order of number.
CREATE OR REPLACE FUNCTION ringlog_upsert_leads(p jsonb)
RETURNS TABLE (lead_id bigint, outcome text, linked_calls integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_phone bigint;
    v_item  jsonb;
BEGIN
    FOR v_phone IN
        SELECT DISTINCT (e->>'phone')::bigint FROM jsonb_array_elements(p) e
         WHERE e->>'phone' ~ '^[1-9][0-9]{0,14}$' ORDER BY 1
    LOOP
        PERFORM ringlog_lead_lock(v_phone::text, true);
    END LOOP;
    FOR v_item IN SELECT e FROM jsonb_array_elements(p) WITH ORDINALITY AS a(e, n) ORDER BY a.n
    LOOP
        SELECT u.lead_id, u.outcome, u.linked_calls INTO lead_id, outcome, linked_calls
          FROM ringlog_upsert_lead(v_item) u;
        RETURN NEXT;
    END LOOP;
END
$$;
