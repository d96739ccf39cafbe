-- Webhook events of leads (sql/035): lead.created, written in the
-- transaction that creates the lead (a push, `ringlog lead add`, the CRM's
-- sync). A lead belongs to no source, so every subscription that wants the
-- type gets it, whatever its source. A lead created and deleted again in
-- one transaction (a duplicate push) is dropped at delivery: its object is
-- gone.
CREATE OR REPLACE FUNCTION ringlog_outbox_leads() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhooks WHERE state <> 'disabled') THEN
        RETURN NULL;
    END IF;
    INSERT INTO webhook_events (webhook_id, type, object_id, lead_id)
    SELECT w.id, 'lead.created', n.id, n.id
      FROM new_rows n
      JOIN webhooks w ON w.state <> 'disabled' AND 'lead.created' = ANY (w.events)
     ORDER BY n.id, w.id;
    RETURN NULL;
END
$$;

-- Its triggers (made here, beside the function, by every `ringlog migrate`).
CREATE OR REPLACE TRIGGER leads_outbox_insert AFTER INSERT ON leads REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ringlog_outbox_leads();
