-- Screen pop answers from memory (issue 12): every ringlog-ingestd keeps the
-- open leads by number (ingest/leadcache.c) and LISTENs on ringlog_leads;
-- these statement triggers NOTIFY the numbers whose open leads changed,
-- whoever wrote them (a push, the CRM sync, the CLI, by hand). The body is
-- in sql/functions/ringlog_leads_notify.sql; a stub here so the triggers
-- can be made before the function files run.
CREATE FUNCTION ringlog_leads_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER leads_notify_insert AFTER INSERT ON leads REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ringlog_leads_notify();
CREATE TRIGGER leads_notify_update AFTER UPDATE ON leads REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ringlog_leads_notify();
CREATE TRIGGER leads_notify_delete AFTER DELETE ON leads REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ringlog_leads_notify();
CREATE TRIGGER leads_notify_truncate AFTER TRUNCATE ON leads
    FOR EACH STATEMENT EXECUTE FUNCTION ringlog_leads_notify();
