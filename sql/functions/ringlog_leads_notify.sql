-- NOTIFY ringlog_leads with the numbers (E.164 digits, comma separated)
-- whose open leads a statement changed: inserted or deleted open leads, and
-- updated leads whose number, status or shown fields changed. "*" when
-- every number may have changed (TRUNCATE, or more numbers than a payload
-- holds): the listeners load them all again. Sent at COMMIT, so a listener
-- that reads the numbers on receipt sees the change (sql/030).
CREATE OR REPLACE FUNCTION ringlog_leads_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_phones text;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('ringlog_leads', '*');
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        SELECT string_agg(DISTINCT n.phone, ',') INTO v_phones FROM new_rows n WHERE n.status = 'open';
    ELSIF TG_OP = 'DELETE' THEN
        SELECT string_agg(DISTINCT o.phone, ',') INTO v_phones FROM old_rows o WHERE o.status = 'open';
    ELSE
        SELECT string_agg(DISTINCT p.phone, ',') INTO v_phones
          FROM old_rows o JOIN new_rows n ON n.id = o.id,
               LATERAL (VALUES (o.phone), (n.phone)) AS p(phone)
         WHERE (o.phone, o.status, o.name, o.company, o.crm_id, o.crm_url)
               IS DISTINCT FROM (n.phone, n.status, n.name, n.company, n.crm_id, n.crm_url)
           AND (o.status = 'open' OR n.status = 'open');
    END IF;
    IF v_phones IS NOT NULL THEN
        PERFORM pg_notify('ringlog_leads', CASE WHEN length(v_phones) > 7000 THEN '*' ELSE v_phones END);
    END IF;
    RETURN NULL;
END
$$;

-- Its triggers (made here, beside the function, by every `ringlog migrate`).
CREATE OR REPLACE TRIGGER leads_notify_insert AFTER INSERT ON leads REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ringlog_leads_notify();
CREATE OR REPLACE TRIGGER leads_notify_update AFTER UPDATE ON leads REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ringlog_leads_notify();
CREATE OR REPLACE TRIGGER leads_notify_delete AFTER DELETE ON leads REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ringlog_leads_notify();
CREATE OR REPLACE TRIGGER leads_notify_truncate AFTER TRUNCATE ON leads
    FOR EACH STATEMENT EXECUTE FUNCTION ringlog_leads_notify();
